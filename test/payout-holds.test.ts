import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { LegAlreadyDecided, TransferStateConflict } from '../ledger/postings';
import { holdPayout, holdStatusOf, releaseHold, returnSettled, settleHold } from '../ledger/payout-holds';
import { balancesOf, historyOf } from '../ledger/reads';
import { reconcileShards } from '../ledger/reconciliation';
import { insertUser, setFrozen, closeWallet } from '../ledger/users';
import { setRules } from '../ledger/wallet-rules';
import { verifyShard } from '../ledger/verify';
import { driftedAccounts, ledgerTotals, postingsOf, userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';
import { uniqueName } from './support/temporal';

/** A payout's holds as ledger postings (ledger/payout-holds.ts) on real PostgreSQL shards. */
describe('payout holds', () => {
  let fixture: Awaited<ReturnType<typeof createTestShards>>;
  const run = { workflowId: 'payout-test', runId: 'run-1' };

  before(async () => {
    fixture = await createTestShards(2);
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(fixture.shards), []);
    await fixture.drop();
  });

  const poolOf = (userId: string) => fixture.shards.pool(fixture.shards.shardOf(userId));

  /** A user with a balance, funded by a deposit-like posting from settlement (post_leg). */
  async function userWith(balanceMinor: bigint, shard = 0): Promise<string> {
    const userId = userOnShard(fixture.shards, shard, 'p');
    await insertUser(fixture.shards.pool(shard), userId);
    if (balanceMinor > 0n)
      await fixture.shards.pool(shard).query(
        `select outcome from post_leg(p_transfer_id => $1, p_leg => 'credit', p_user_id => $2, p_currency => 'USD',
                p_customer_delta => $3::bigint, p_counterparty => 'settlement', p_entry_kind => 'deposit',
                p_ignore_holds => false, p_workflow_id => 'fund', p_run_id => 'fund', p_finish_if_posted => null,
                p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                p_daily_limit => null)`,
        [uniqueName('fund'), userId, balanceMinor.toString()],
      );
    return userId;
  }

  function hold(
    userId: string,
    amountMinor: bigint,
    payoutId = uniqueName('po'),
    dailyOutgoingMaxMinor: bigint | null = null,
  ) {
    return holdPayout(poolOf(userId), {
      payoutId,
      userId,
      currency: 'USD',
      amountMinor,
      dailyOutgoingMaxMinor,
      ...run,
    });
  }

  async function balanceLine(userId: string) {
    const line = (await balancesOf(poolOf(userId), userId)).find((found) => found.currency === 'USD');
    assert.ok(line, `${userId} has no USD wallet`);
    return line;
  }

  async function assertReconciled(): Promise<void> {
    const clients: pg.PoolClient[] = await Promise.all(fixture.shards.pools.map((pool) => pool.connect()));
    try {
      const report = await reconcileShards(clients);
      assert.deepEqual(report.discrepancies, []);
      assert.equal(report.ok, true);
      for (const client of clients) assert.equal((await verifyShard(client)).breakCount, 0);
    } finally {
      for (const client of clients) client.release();
    }
  }

  it('holds once however often it is retried, and the balance shows it as pending_out', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    const first = await hold(alice, 300n, payoutId);
    const again = await hold(alice, 300n, payoutId);
    assert.deepEqual(first, { outcome: 'posted', balanceAfterMinor: 700n, replayed: false });
    assert.deepEqual(again, { outcome: 'posted', balanceAfterMinor: 700n, replayed: true });
    assert.deepEqual(await balanceLine(alice), {
      currency: 'USD',
      amountMinor: 700n,
      availableMinor: 700n,
      pendingOutMinor: 300n,
      pendingInMinor: 0n,
    });
    assert.equal(await holdStatusOf(poolOf(alice), payoutId), 'held');
    assert.deepEqual(await postingsOf(fixture.shards, payoutId), [{ leg: 'hold', outcome: 'posted', entries: 2 }]);
    const [newest] = await historyOf(poolOf(alice), { userId: alice, limit: 1 });
    assert.equal(newest!.kind, 'payout_hold');
    assert.equal(newest!.amountMinor, -300n);
    assert.equal(newest!.transferId, payoutId);
    await assertReconciled();
  });

  it('refuses a retry of a hold with another amount, and moves nothing', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    await hold(alice, 300n, payoutId);
    await assert.rejects(hold(alice, 301n, payoutId), TransferStateConflict);
    assert.equal((await balanceLine(alice)).amountMinor, 700n);
  });

  it('refuses a hold over the available balance, and holds nothing', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    assert.deepEqual(await hold(alice, 1_001n, payoutId), {
      outcome: 'refused',
      reason: 'insufficient_funds',
      replayed: false,
    });
    assert.equal(await holdStatusOf(poolOf(alice), payoutId), undefined);
    const line = await balanceLine(alice);
    assert.equal(line.amountMinor, 1_000n);
    assert.equal(line.pendingOutMinor, 0n);
    // The refusal is the hold's decided outcome: a retry reads it, even once the money is there.
    assert.equal((await hold(alice, 1_001n, payoutId)).outcome, 'refused');
  });

  it("applies the transfer debit's rules: minimum balance, frozen wallet, the daily limit", async () => {
    const alice = await userWith(1_000n);
    await fixture.shards.withTransaction(fixture.shards.shardOf(alice), (client) =>
      setRules(client, { userId: alice, currency: 'USD', minBalanceMinor: 400n, operator: 'ops_a', reason: 'test' }),
    );
    assert.equal((await balanceLine(alice)).availableMinor, 600n);
    assert.equal((await hold(alice, 601n)).outcome, 'refused');
    assert.equal((await hold(alice, 600n)).outcome, 'posted');

    const bob = await userWith(1_000n);
    // The daily limit counts holds like withdrawals, and a released hold gives its room back.
    const first = uniqueName('po');
    assert.equal((await hold(bob, 400n, first, 500n)).outcome, 'posted');
    assert.deepEqual(await hold(bob, 200n, uniqueName('po'), 500n), {
      outcome: 'refused',
      reason: 'limit_exceeded',
      replayed: false,
    });
    await releaseHold(poolOf(bob), first, run);
    assert.equal((await hold(bob, 200n, uniqueName('po'), 500n)).outcome, 'posted');

    const carol = await userWith(1_000n);
    await fixture.shards.withTransaction(fixture.shards.shardOf(carol), (client) =>
      setFrozen(client, { userId: carol, frozen: true, operator: 'ops_a', reason: null }),
    );
    assert.deepEqual(await hold(carol, 100n), { outcome: 'refused', reason: 'user_frozen', replayed: false });
    assert.equal((await balanceLine(carol)).amountMinor, 1_000n);
    await assertReconciled();
  });

  it('releases a hold back to the wallet once, and a released hold cannot settle', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    await hold(alice, 250n, payoutId);
    assert.deepEqual(await releaseHold(poolOf(alice), payoutId, run), { holdOutcome: 'posted', released: true });
    assert.deepEqual(await releaseHold(poolOf(alice), payoutId, run), { holdOutcome: 'posted', released: true });
    assert.deepEqual(await balanceLine(alice), {
      currency: 'USD',
      amountMinor: 1_000n,
      availableMinor: 1_000n,
      pendingOutMinor: 0n,
      pendingInMinor: 0n,
    });
    await assert.rejects(settleHold(poolOf(alice), payoutId, run), TransferStateConflict);
    const [release, holdEntry] = await historyOf(poolOf(alice), { userId: alice, limit: 2 });
    assert.equal(release!.kind, 'payout_release');
    assert.equal(release!.undoesEntryId, holdEntry!.entryId);
    assert.equal(await holdStatusOf(poolOf(alice), payoutId), 'released');
    await assertReconciled();
  });

  it('fences a hold that never ran: the release voids it, and a late hold moves nothing', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    assert.deepEqual(await releaseHold(poolOf(alice), payoutId, run), { holdOutcome: 'voided', released: false });
    assert.deepEqual(await hold(alice, 100n, payoutId), { outcome: 'voided', replayed: true });
    assert.equal((await balanceLine(alice)).amountMinor, 1_000n);
    await assert.rejects(settleHold(poolOf(alice), payoutId, run), TransferStateConflict);
  });

  it('settles into the settlement account once, then takes a return back to the wallet once', async () => {
    const alice = await userWith(1_000n, 1);
    const payoutId = uniqueName('po');
    const before = await ledgerTotals(fixture.shards, 'USD');
    await hold(alice, 400n, payoutId);
    const held = await ledgerTotals(fixture.shards, 'USD');
    assert.equal(held.payouts_in_flight - before.payouts_in_flight, 400n);
    assert.deepEqual(await settleHold(poolOf(alice), payoutId, run), { replayed: false });
    assert.deepEqual(await settleHold(poolOf(alice), payoutId, run), { replayed: true });
    const settled = await ledgerTotals(fixture.shards, 'USD');
    assert.equal(settled.payouts_in_flight, before.payouts_in_flight);
    assert.equal(settled.settlement - before.settlement, 400n);
    assert.deepEqual(await balanceLine(alice), {
      currency: 'USD',
      amountMinor: 600n,
      availableMinor: 600n,
      pendingOutMinor: 0n,
      pendingInMinor: 0n,
    });
    // Its money left: the hold can no longer be released.
    await assert.rejects(releaseHold(poolOf(alice), payoutId, run), TransferStateConflict);
    await assertReconciled();

    assert.deepEqual(await returnSettled(poolOf(alice), payoutId, run), { balanceAfterMinor: 1_000n, replayed: false });
    assert.deepEqual(await returnSettled(poolOf(alice), payoutId, run), { balanceAfterMinor: 1_000n, replayed: true });
    assert.equal((await balanceLine(alice)).amountMinor, 1_000n);
    const returned = await ledgerTotals(fixture.shards, 'USD');
    assert.equal(returned.settlement, before.settlement);
    assert.equal(await holdStatusOf(poolOf(alice), payoutId), 'returned');
    assert.deepEqual(await postingsOf(fixture.shards, payoutId), [
      { leg: 'hold', outcome: 'posted', entries: 2 },
      { leg: 'return', outcome: 'posted', entries: 2 },
      { leg: 'settle', outcome: 'posted', entries: 2 },
    ]);
    const [back] = await historyOf(poolOf(alice), { userId: alice, limit: 1 });
    assert.equal(back!.kind, 'payout_return');
    await assertReconciled();
  });

  it('refuses a return of a payout that never settled', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    await hold(alice, 100n, payoutId);
    await assert.rejects(returnSettled(poolOf(alice), payoutId, run), TransferStateConflict);
    await assert.rejects(returnSettled(poolOf(alice), uniqueName('po'), run), TransferStateConflict);
    assert.equal((await balanceLine(alice)).amountMinor, 900n);
  });

  it('holds exactly the affordable ones of 32 racing holds against one balance', async () => {
    const alice = await userWith(1_000n);
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => hold(alice, 100n)));
    const outcomes = results.map((result) => {
      assert.equal(result.status, 'fulfilled', String((result as PromiseRejectedResult).reason));
      return (result as PromiseFulfilledResult<Awaited<ReturnType<typeof hold>>>).value;
    });
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'posted').length, 10);
    assert.ok(
      outcomes
        .filter((outcome) => outcome.outcome !== 'posted')
        .every((outcome) => outcome.outcome === 'refused' && outcome.reason === 'insufficient_funds'),
    );
    const line = await balanceLine(alice);
    assert.equal(line.amountMinor, 0n);
    assert.equal(line.pendingOutMinor, 1_000n);
    await assertReconciled();
  });

  it('answers racing attempts of one hold with one posting', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => hold(alice, 100n, payoutId)));
    for (const result of results)
      if (result.status === 'rejected') assert.ok(result.reason instanceof LegAlreadyDecided, String(result.reason));
    assert.equal((await hold(alice, 100n, payoutId)).outcome, 'posted');
    assert.equal((await balanceLine(alice)).amountMinor, 900n);
    assert.equal((await balanceLine(alice)).pendingOutMinor, 100n);
  });

  it('lets a release and a settle of one hold race: exactly one of them moves the money', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    await hold(alice, 500n, payoutId);
    const [released, settled] = await Promise.allSettled([
      releaseHold(poolOf(alice), payoutId, run),
      settleHold(poolOf(alice), payoutId, run),
    ]);
    assert.equal([released, settled].filter((result) => result.status === 'fulfilled').length, 1);
    const status = await holdStatusOf(poolOf(alice), payoutId);
    assert.equal((await balanceLine(alice)).amountMinor, status === 'released' ? 1_000n : 500n);
    await assertReconciled();
  });

  it('refuses to close a wallet while a payout holds its money', async () => {
    const alice = await userWith(100n);
    const payoutId = uniqueName('po');
    await hold(alice, 100n, payoutId);
    const close = () =>
      closeWallet(poolOf(alice), { userId: alice, operator: 'ops_a', reason: 'test', reversalWindowMs: 0 });
    assert.deepEqual(await close(), { outcome: 'transfers_in_flight' });
    await settleHold(poolOf(alice), payoutId, run);
    assert.equal((await close()).outcome, 'closed');
  });

  it('reports a payouts_in_flight account that does not match the open holds', async () => {
    const alice = await userWith(1_000n);
    const payoutId = uniqueName('po');
    await hold(alice, 100n, payoutId);
    const pool = poolOf(alice);
    // A hand edit: the index of holds says released, the ledger still holds the money.
    await pool.query(`update payout_holds set status = 'released' where payout_id = $1`, [payoutId]);
    const clients = await Promise.all(fixture.shards.pools.map((shardPool) => shardPool.connect()));
    try {
      const report = await reconcileShards(clients);
      const found = report.discrepancies.filter((line) => line.kind === 'payouts_in_flight_mismatch');
      assert.equal(found.length, 1);
      assert.equal(
        (found[0] as { stored: bigint; computed: bigint }).stored - (found[0] as { computed: bigint }).computed,
        100n,
      );
    } finally {
      for (const client of clients) client.release();
      await pool.query(`update payout_holds set status = 'held' where payout_id = $1`, [payoutId]);
    }
  });
});
