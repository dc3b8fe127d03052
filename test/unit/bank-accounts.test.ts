import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../app/logger';
import {
  checkAchDetails,
  fingerprintOf,
  isAbaRoutingNumber,
  maskedDetails,
  type RailDetails,
} from '../../domain/bank-accounts';

describe('bank accounts (domain)', () => {
  it("checks an ABA routing number's check digit", () => {
    // Real routing numbers: the Federal Reserve Bank of Boston, JPMorgan Chase (New York), Wells Fargo (California).
    for (const valid of ['011000015', '021000021', '121000248']) assert.equal(isAbaRoutingNumber(valid), true, valid);
    // One digit off, a transposition, the wrong length, non-digits, all zeros.
    for (const invalid of ['011000016', '012000015', '01100001', '0110000150', '01100001a', '000000000', ''])
      assert.equal(isAbaRoutingNumber(invalid), false, invalid);
  });

  it('refuses account numbers that are not 4 to 17 digits, without repeating them', () => {
    const ach = { routingNumber: '011000015', accountType: 'checking' as const };
    assert.deepEqual(checkAchDetails({ ...ach, accountNumber: '1234' }), { ok: true });
    assert.deepEqual(checkAchDetails({ ...ach, accountNumber: '1'.repeat(17) }), { ok: true });
    for (const bad of ['123', '1'.repeat(18), '12 34', '-1234', '１２３４']) {
      const checked = checkAchDetails({ ...ach, accountNumber: bad });
      assert.equal(checked.ok, false, bad);
      assert.ok(!checked.ok && checked.refusal === 'invalid_account_number' && !checked.why.includes(bad));
    }
    assert.equal(
      (checkAchDetails({ ...ach, routingNumber: '011000016', accountNumber: '1234' }) as { refusal: string }).refusal,
      'invalid_routing_number',
    );
  });

  it('masks to the last 4 digits and fingerprints by routing and account number only', () => {
    const details: RailDetails = {
      rail: 'ach',
      ach: { routingNumber: '011000015', accountNumber: '000123456789', accountType: 'savings' },
    };
    assert.deepEqual(maskedDetails(details), {
      rail: 'ach',
      ach: { routingNumber: '011000015', accountType: 'savings', last4: '6789' },
    });
    const checking: RailDetails = { rail: 'ach', ach: { ...details.ach, accountType: 'checking' } };
    assert.equal(fingerprintOf(checking), fingerprintOf(details));
    assert.notEqual(
      fingerprintOf({ rail: 'ach', ach: { ...details.ach, accountNumber: '000123456788' } }),
      fingerprintOf(details),
    );
    assert.match(fingerprintOf(details), /^[0-9a-f]{64}$/);
  });

  it('masks account numbers in log lines, however deep', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const logger = createLogger('test', 'info', stream);
    logger.info({ account_number: '000123456789' }, 'top');
    logger.info({ body: { account_number: '000123456789', routing_number: '011000015' } }, 'body');
    logger.info({ input: { bank: { details: { accountNumber: '000123456789' } } } }, 'deep');
    await new Promise((resolve) => setImmediate(resolve));
    const text = lines.join('');
    assert.equal(text.split('\n').filter(Boolean).length, 3);
    assert.ok(!text.includes('000123456789'), text);
    assert.ok(text.includes('[masked]') && text.includes('011000015'));
  });
});
