import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { userOnShard } from './support/ledger';
import { startTestStack, type TestStack } from './support/stack';

/** Point-in-time balances (`?at=`) and time-bounded history (`from`, `to`), at their edges. */
describe('balances at an instant and history by time', () => {
  let stack: TestStack;
  let alice: string;
  let bob: string;
  before(async () => {
    stack = await startTestStack();
    alice = userOnShard(stack.shards, 0, 'at');
    bob = userOnShard(stack.shards, 1, 'at');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
  });
  after(async () => stack.stop());

  const balanceAt = async (userId: string, instant: string) => {
    const answer = await stack.api.call(
      'GET',
      `/v1/wallet/${userId}/balance?at=${encodeURIComponent(instant)}`,
      stack.api.ops,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.balances as { currency: string; amount: number }[];
  };
  const history = async (userId: string, query = '') =>
    (await stack.api.call('GET', `/v1/wallet/${userId}/transactions?limit=100${query}`, stack.api.ops)).body
      .entries as { amount: number; balance_after: number; created_at: string; currency: string }[];

  it("answers each entry's own instant with its balance_after, also under concurrent postings", async () => {
    const before = new Date(Date.now() - 1_000).toISOString();
    // Racing deposits into one wallet: the entry times must follow the order the balance changed in.
    await Promise.all(Array.from({ length: 12 }, (_, index) => stack.api.deposit(alice, 100 + index)));
    await stack.api.deposit(alice, 5_000, undefined, 'JPY');
    const entries = await history(alice);
    assert.equal(entries.length, 13);
    for (const entry of entries) {
      const line = (await balanceAt(alice, entry.created_at)).find((balance) => balance.currency === entry.currency);
      assert.equal(line?.amount, entry.balance_after, `at ${entry.created_at}`);
    }
    assert.deepEqual(await balanceAt(alice, before), []);
    const now = (await stack.api.call('GET', `/v1/wallet/${alice}/balance`, stack.api.ops)).body.balances as {
      currency: string;
      amount: number;
    }[];
    // ?at= answers the ledger balance alone (available and the pending amounts are for now only).
    assert.deepEqual(
      await balanceAt(alice, '9999-12-31T23:59:59Z'),
      now.map(({ currency, amount }) => ({ currency, amount })),
    );
  });

  it('includes an entry posted exactly at the instant, and not one a microsecond earlier', async () => {
    await stack.api.deposit(bob, 700);
    await stack.api.deposit(bob, 300);
    const [newest, older] = await history(bob);
    assert.deepEqual(await balanceAt(bob, newest!.created_at), [{ currency: 'USD', amount: 1_000 }]);
    const justBefore = microsecondBefore(newest!.created_at);
    assert.deepEqual(await balanceAt(bob, justBefore), [{ currency: 'USD', amount: older!.balance_after }]);
    // from is inclusive, to exclusive.
    assert.deepEqual(
      (await history(bob, `&from=${newest!.created_at}`)).map((entry) => entry.amount),
      [300],
    );
    assert.deepEqual(
      (await history(bob, `&to=${newest!.created_at}`)).map((entry) => entry.amount),
      [700],
    );
    assert.deepEqual(
      (await history(bob, `&from=${older!.created_at}&to=${newest!.created_at}`)).map((entry) => entry.amount),
      [700],
    );
    assert.deepEqual(await history(bob, `&from=${encodeURIComponent('2099-01-01T00:00:00+01:00')}`), []);
  });

  it('refuses instants that are not RFC 3339 with an offset', async () => {
    for (const bad of ['yesterday', '2026-11-22', '2026-11-22T08:00:00', '2026-13-01T00:00:00Z']) {
      const answer = await stack.api.call(
        'GET',
        `/v1/wallet/${bob}/balance?at=${encodeURIComponent(bad)}`,
        stack.api.ops,
      );
      assert.deepEqual([answer.status, answer.body.error.code], [400, 'invalid_request'], bad);
      const listed = await stack.api.call(
        'GET',
        `/v1/wallet/${bob}/transactions?from=${encodeURIComponent(bad)}`,
        stack.api.ops,
      );
      assert.equal(listed.status, 400, bad);
    }
  });
});

/** "…18.354567Z" → "…18.354566Z" (entry times come with microseconds). */
function microsecondBefore(instant: string): string {
  const match = /^(.*\.)(\d{6})Z$/.exec(instant);
  if (!match) throw new Error(`expected microseconds in ${instant}`);
  const micros = Number(match[2]);
  if (micros === 0) throw new Error('test instant falls on a whole second; rerun');
  return `${match[1]}${String(micros - 1).padStart(6, '0')}Z`;
}
