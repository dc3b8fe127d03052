import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crashIfDue } from '../../activities/chaos-crash';
import { chaosCrashOf, ConfigError, parseConfig } from '../../config';
import { formatMinor, isKnownCurrency, minorDigits, parseMinor, wallet_currencies_default } from '../../domain/money';
import { shardForUser } from '../../domain/shard-routing';
import { requestHashOf, transferIdFor } from '../../domain/transfer-ids';
import { summaryOf } from '../../temporal-client/start-transfer';

describe('shard routing', () => {
  it('is a pure function of the user id, pinned: known ids stay on known shards', () => {
    // Recorded from the mapping as deployed (SHA-256's first 8 bytes, big-endian, mod the count).
    // A change to it would move every user's wallet away from the shard that holds it.
    const pinned: [userId: string, shardCount: number, shard: number][] = [
      ['ops_console', 4, 0],
      ['user_2', 4, 1],
      ['user_A', 4, 2],
      ['alice', 4, 3],
      ['bob', 2, 0],
      ['alice', 2, 1],
      ['c7_0', 8, 3],
      ['carol', 8, 6],
      ['alice', 8, 7],
      ['anyone', 1, 0],
    ];
    for (const [userId, shardCount, shard] of pinned)
      assert.equal(shardForUser(userId, shardCount), shard, `${userId} of ${shardCount} shards`);
    assert.deepEqual(
      new Set(pinned.filter(([, count]) => count === 4).map(([, , shard]) => shard)),
      new Set([0, 1, 2, 3]),
      'the pins cover every shard of four',
    );
  });

  it('spreads sequential ids evenly (within 5% of the mean over 40,000 ids)', () => {
    const counts = [0, 0, 0, 0];
    for (let index = 0; index < 40_000; index++) counts[shardForUser(`user_${index}`, 4)]!++;
    for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `shard counts ${counts}`);
  });

  it('refuses a nonsensical shard count', () => {
    assert.throws(() => shardForUser('a', 0));
    assert.throws(() => shardForUser('a', 1.5));
  });
});

describe('money', () => {
  it('formats minor units with the currency exponent', () => {
    assert.equal(formatMinor(5000n, 'USD'), '50.00');
    assert.equal(formatMinor(5n, 'USD'), '0.05');
    assert.equal(formatMinor(5000n, 'JPY'), '5000');
    assert.equal(formatMinor(1234567n, 'BHD'), '1234.567');
    assert.equal(formatMinor(-150n, 'EUR'), '-1.50');
    assert.equal(formatMinor(2n ** 70n, 'USD'), '11805916207174113034.24');
  });

  it('knows ISO 4217 currencies that have minor units', () => {
    assert.ok(isKnownCurrency('USD'));
    assert.ok(isKnownCurrency('JPY'));
    assert.equal(minorDigits('KWD'), 3);
    assert.equal(isKnownCurrency('XYZ'), false);
    assert.equal(isKnownCurrency('usd'), false);
  });

  it('parses only integer strings', () => {
    assert.equal(parseMinor('9007199254740993'), 9007199254740993n);
    assert.throws(() => parseMinor('1.5'));
    assert.throws(() => parseMinor('1e3'));
    assert.throws(() => parseMinor('007'));
  });
});

describe('transfer ids', () => {
  it('are deterministic per (kind, owner, key) and differ otherwise', () => {
    const id = transferIdFor('transfer', 'alice', 'k1');
    assert.match(id, /^tr_[0-9a-f]{32}$/);
    assert.equal(transferIdFor('transfer', 'alice', 'k1'), id);
    assert.notEqual(transferIdFor('transfer', 'bob', 'k1'), id);
    assert.notEqual(transferIdFor('withdrawal', 'alice', 'k1'), id);
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert.notEqual(transferIdFor('transfer', 'ab', 'c'), transferIdFor('transfer', 'a', 'bc'));
  });

  it('fingerprint every field of the request', () => {
    const base = {
      kind: 'transfer' as const,
      fromUserId: 'a',
      toUserId: 'b',
      amountMinor: 100n,
      currency: 'USD',
      note: null,
    };
    assert.equal(requestHashOf(base), requestHashOf({ ...base }));
    assert.notEqual(requestHashOf(base), requestHashOf({ ...base, amountMinor: 101n }));
    assert.notEqual(requestHashOf(base), requestHashOf({ ...base, note: 'x' }));
    assert.notEqual(requestHashOf(base), requestHashOf({ ...base, toUserId: 'c' }));
  });

  it('summarise for the Web UI', () => {
    assert.equal(
      summaryOf({ kind: 'transfer', fromUserId: 'user_A', toUserId: 'user_B', amountMinor: 5000n, currency: 'USD' }),
      'user_A -> user_B 50.00 USD',
    );
  });
});

describe('config', () => {
  it('works with no environment at all', () => {
    const settings = parseConfig({});
    assert.equal(settings.PORT, 3000);
    assert.equal(settings.usesDevServer, true);
    assert.deepEqual(
      settings.shardUrls,
      [0, 1, 2, 3].map((index) => `postgres://postgres@127.0.0.1:5432/wallet_shard_${index}`),
    );
  });

  it('reads the pay-in settings: the bank, our routing number, the poll interval', () => {
    const settings = parseConfig({});
    assert.deepEqual(
      [settings.BANK_URL, settings.BANK_ROUTING, settings.PAYIN_POLL_EVERY, settings.achServerUrl],
      ['http://127.0.0.1:4010', '231380104', 10_000, 'http://127.0.0.1:4011'],
    );
    assert.equal(parseConfig({ PAYIN_POLL_EVERY: 'off' }).PAYIN_POLL_EVERY, null);
    assert.equal(parseConfig({ PAYIN_POLL_EVERY: '2s' }).PAYIN_POLL_EVERY, 2_000);
    assert.throws(() => parseConfig({ PAYIN_POLL_EVERY: '500ms' }), /PAYIN_POLL_EVERY: must be at least 1s/);
    assert.throws(() => parseConfig({ BANK_ROUTING: '231380105' }), /BANK_ROUTING: fails the ABA/);
    // The development bank token is public: a bank elsewhere needs a real one.
    assert.throws(() => parseConfig({ BANK_URL: 'https://bank.example.com' }), /BANK_TOKEN must be set/);
    assert.equal(
      parseConfig({ BANK_URL: 'https://bank.example.com', BANK_TOKEN: 'x'.repeat(40) }).BANK_URL,
      'https://bank.example.com',
    );
  });

  it('takes separate shard servers from SHARD_URLS', () => {
    const settings = parseConfig({ SHARD_URLS: 'postgres://a@db1:5432/wallet, postgres://a@db2:5432/wallet' });
    assert.deepEqual(settings.shardUrls, ['postgres://a@db1:5432/wallet', 'postgres://a@db2:5432/wallet']);
  });

  it('holds the configured CURRENCIES, each checked against ISO 4217', () => {
    assert.deepEqual([...parseConfig({}).currencies], [...wallet_currencies_default]);
    for (const used of ['USD', 'EUR', 'GBP', 'CHF', 'JPY', 'BHD']) assert.ok(parseConfig({}).currencies.has(used));
    assert.equal(parseConfig({}).currencies.has('XXX'), false);
    assert.deepEqual([...parseConfig({ CURRENCIES: 'USD, JPY' }).currencies], ['USD', 'JPY']);
    assert.throws(() => parseConfig({ CURRENCIES: 'USD,ABC,usd' }), /CURRENCIES: .*not: ABC, usd$/);
    assert.throws(() => parseConfig({ CURRENCIES: '' }), /CURRENCIES/);
  });

  it('admits by queueing delay: ADMISSION_TARGET and TRANSFERS_IN_FLIGHT_CEILING', () => {
    assert.equal(parseConfig({}).ADMISSION_TARGET, 120_000);
    assert.equal(parseConfig({}).TRANSFERS_IN_FLIGHT_CEILING, 5_000);
    assert.equal(parseConfig({ ADMISSION_TARGET: '30s' }).ADMISSION_TARGET, 30_000);
    assert.throws(() => parseConfig({ ADMISSION_TARGET: '0s' }), /ADMISSION_TARGET/);
    assert.throws(() => parseConfig({ TRANSFERS_IN_FLIGHT_CEILING: '0' }), /TRANSFERS_IN_FLIGHT_CEILING/);
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => parseConfig({ SHARD_URLS: 'mysql://nope' }),
      (error: Error) => error instanceof ConfigError && /SHARD_URLS entry 0/.test(error.message),
    );
    assert.throws(() => parseConfig({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => parseConfig({ ACTIVITY_TIMEOUT_MS: '-1' }), /ACTIVITY_TIMEOUT_MS/);
    assert.throws(() => parseConfig({ AUTH_SECRET: 'short' }), /AUTH_SECRET/);
    // Off loopback, neither the development signing secret nor the development payload key is allowed.
    const payloadKeys = 'k1:eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=';
    assert.throws(() => parseConfig({ HOST: '0.0.0.0', PAYLOAD_KEYS: payloadKeys }), /AUTH_SECRET must be set/);
    assert.throws(() => parseConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(32) }), /PAYLOAD_KEYS must be set/);
    assert.equal(
      parseConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(32), PAYLOAD_KEYS: payloadKeys }).HOST,
      '0.0.0.0',
    );
  });

  it("arms the chaos run's crash hook only when asked, with the values chaos sets", () => {
    const hook = (permille: string, leg: string) =>
      chaosCrashOf(
        parseConfig({ WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE: permille, WALLET_CHAOS_CRASH_AFTER_LEG: leg }),
      );
    assert.equal(chaosCrashOf(parseConfig({})), undefined);
    // chaos/stack.ts disarms a wallet with empty values.
    assert.equal(hook('', ''), undefined);
    assert.deepEqual(hook('1000', 'debit'), { afterCommitPermille: 1000, debitOnly: true });
    assert.deepEqual(hook('1000', ''), { afterCommitPermille: 1000, debitOnly: false });
    assert.throws(() => hook('1000', 'credit'), /WALLET_CHAOS_CRASH_AFTER_LEG/);
    assert.throws(() => hook('1001', ''), /WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE/);
  });

  it('never fires the crash hook unarmed, nor on a leg it is not aimed at', () => {
    // A hook that fired would kill this test process with SIGKILL, failing the file.
    crashIfDue(undefined, 'debit', 'posted');
    crashIfDue({ afterCommitPermille: 1000, debitOnly: true }, 'credit', 'posted');
    crashIfDue({ afterCommitPermille: 1000, debitOnly: true }, 'debit', 'refused');
  });
});
