import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../config';
import { payoutIdFor, payoutRequestHashOf } from '../../domain/payout-ids';
import { payoutEntrySequenceOf, returnEntrySequenceOf } from '../../domain/entry-sequences';
import { entriesBeforeWrap, payout_id_pattern, payoutFailureOf } from '../../domain/payouts';

describe('payouts (pure parts)', () => {
  it('ends a file at the trace counter wrap: entries left before nine million', () => {
    assert.equal(entriesBeforeWrap(0), 9_000_000);
    assert.equal(entriesBeforeWrap(8_999_990), 10);
    assert.equal(entriesBeforeWrap(8_999_999), 1);
    // After the wrap the counter keeps growing; trace numbers use its place in the payouts' range.
    assert.equal(entriesBeforeWrap(9_000_000), 9_000_000);
    assert.equal(entriesBeforeWrap(17_999_995), 5);
  });

  it('keeps payouts and returns of received credits in ranges of the trace numbers that never meet', () => {
    assert.equal(payoutEntrySequenceOf(8_999_999), 8_999_999);
    assert.equal(payoutEntrySequenceOf(9_000_000), 0);
    assert.equal(returnEntrySequenceOf(0), 9_000_000);
    assert.equal(returnEntrySequenceOf(999_999), 9_999_999);
    assert.equal(returnEntrySequenceOf(1_000_000), 9_000_000);
    for (const counter of [0, 1, 8_999_999, 9_000_000, 123_456_789])
      assert.ok(payoutEntrySequenceOf(counter) < returnEntrySequenceOf(counter));
  });

  it('derives the payout id from owner and key only, never like a transfer id', () => {
    const id = payoutIdFor('alice', 'k1');
    assert.match(id, payout_id_pattern);
    assert.equal(payoutIdFor('alice', 'k1'), id);
    assert.notEqual(payoutIdFor('bob', 'k1'), id);
    assert.notEqual(payoutIdFor('alice', 'k2'), id);
  });

  it('fingerprints the body: another account, amount or currency is another request', () => {
    const asked = { bankAccountId: 'ba_1', amountMinor: 100n, currency: 'USD' };
    const hash = payoutRequestHashOf(asked);
    assert.equal(payoutRequestHashOf({ ...asked }), hash);
    assert.notEqual(payoutRequestHashOf({ ...asked, amountMinor: 101n }), hash);
    assert.notEqual(payoutRequestHashOf({ ...asked, bankAccountId: 'ba_2' }), hash);
    assert.notEqual(payoutRequestHashOf({ ...asked, currency: 'EUR' }), hash);
  });

  it("keeps a hold's refusals as the payout's failure reasons", () => {
    assert.equal(payoutFailureOf('insufficient_funds'), 'insufficient_funds');
    assert.equal(payoutFailureOf('limit_exceeded'), 'limit_exceeded');
    assert.equal(payoutFailureOf('user_frozen'), 'user_frozen');
  });

  it('reads the payout settings, and refuses the development bank token for a bank elsewhere', () => {
    const settings = parseConfig({});
    assert.equal(settings.PAYOUT_CUTOFF_EVERY, 10_000);
    assert.equal(settings.PAYOUT_RETURN_WINDOW, 90_000);
    assert.equal(settings.BANK_URL, 'http://127.0.0.1:4010');
    assert.throws(() => parseConfig({ BANK_URL: 'https://bank.example.com' }), ConfigError);
    assert.equal(
      parseConfig({ BANK_URL: 'https://bank.example.com', BANK_TOKEN: 'x'.repeat(32) }).BANK_TOKEN,
      'x'.repeat(32),
    );
    assert.throws(() => parseConfig({ BANK_ROUTING: '231380105' }), ConfigError);
    assert.throws(() => parseConfig({ PAYOUT_CUTOFF_EVERY: '500ms' }), ConfigError);
  });
});
