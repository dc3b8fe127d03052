import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBankConfig } from '../../config/bank';
import { ConfigError } from '../../config/index';

describe("the bank's configuration", () => {
  it('has development defaults that work on this machine', () => {
    const settings = parseBankConfig({});
    assert.equal(settings.BANK_DAY, 30_000);
    assert.equal(settings.BANK_PORT, 4010);
    assert.equal(settings.achServerUrl, 'http://127.0.0.1:4011');
    assert.equal(settings.usesDevToken, true);
  });

  it('refuses the public development token off loopback, and bad values with the variable named', () => {
    assert.throws(() => parseBankConfig({ BANK_HOST: '0.0.0.0' }), /BANK_TOKEN must be set/);
    assert.ok(parseBankConfig({ BANK_HOST: '0.0.0.0', BANK_TOKEN: 'a-real-secret-token-of-32-characters!!' }));
    for (const [variable, value] of [
      ['BANK_DAY', '100ms'],
      ['BANK_DAY', '30'],
      ['BANK_ROUTING', '231380105'],
      ['BANK_TOKEN', 'short'],
      ['BANK_DATABASE_URL', 'mysql://x/y'],
    ] as const) {
      assert.throws(
        () => parseBankConfig({ [variable]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
        `${variable}=${value}`,
      );
    }
  });
});
