import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { ReconcileSummary } from '../activities/reconcile';
import { clearing_buckets_read_max } from '../ledger/clearing-in-flight';
import { discrepancies_listed_max } from '../ledger/reconciliation';
import { postReversalDebit } from '../ledger/reversals';
import { ensureReconcileSchedule } from '../workers/reconcile-schedule';
import { reconcileWorkflow } from '../workflows/reconcile';
import { userOnShard } from './support/ledger';
import { startTestStack, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** A triggered schedule's run must land within this. */
const scheduled_run_wait_max_ms = 15_000;

/** Reconciliation end to end: the workflow on the stack's worker, the run on shard 0, the API and the metrics. */
describe('reconciliation', () => {
  let stack: TestStack;
  // Users on every shard, so transfers cross shards as well as stay on one.
  const users: string[] = [];
  let crossShardTransferId = '';

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  function reconcile(): Promise<ReconcileSummary> {
    return stack.client.workflow.execute(reconcileWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('reconcile'),
      args: [],
    });
  }
  const latestRun = () => stack.api.call('GET', '/v1/ops/reconciliation', stack.api.ops);
  const usd = (answer: { body: { currencies: { currency: string }[] } }) =>
    answer.body.currencies.find((line) => line.currency === 'USD');

  it('answers 404 reconciliation_not_run before the first run, and only to ops', async () => {
    const none = await latestRun();
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'reconciliation_not_run');
    const customer = await stack.api.call('GET', '/v1/ops/reconciliation', { as: 'user_nosy' });
    assert.equal(customer.status, 403);
  });

  it('finds a ledger busy with transfers across shards consistent', async () => {
    for (let shard = 0; shard < stack.shards.count; shard++) {
      const userId = userOnShard(stack.shards, shard, 'rec');
      assert.equal((await stack.api.createUser(userId)).status, 201);
      assert.equal((await stack.api.deposit(userId, 10_000)).body.status, 'COMPLETED');
      users.push(userId);
    }
    const [a, b, c, d] = users as [string, string, string, string];
    const frozen = userOnShard(stack.shards, 1, 'rec_frozen');
    await stack.api.createUser(frozen);
    assert.equal((await stack.api.call('POST', `/v1/ops/users/${frozen}/freeze`, stack.api.ops)).status, 200);
    const moves = await Promise.all([
      stack.api.transfer(a, b, 1_500),
      stack.api.transfer(b, c, 700),
      stack.api.transfer(c, d, 2_000),
      stack.api.transfer(d, a, 300),
      stack.api.transfer(a, frozen, 100), // the credit is refused: refunded through clearing
      stack.api.transfer(b, a, 999_999), // refused: nothing moves
    ]);
    assert.deepEqual(
      moves.map((move) => move.body.status),
      ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'FAILED'],
    );
    crossShardTransferId = moves[0]!.body.transfer_id;
    await stack.api.call('POST', `/v1/wallet/${c}/withdrawals?wait=30`, {
      as: c,
      body: { amount: 400, currency: 'USD', idempotency_key: uniqueName('out') },
    });

    const summary = await reconcile();
    assert.deepEqual({ ok: summary.ok, count: summary.discrepancyCount }, { ok: true, count: 0 });
    const run = await latestRun();
    assert.equal(run.status, 200);
    assert.equal(run.body.run_id, summary.runId);
    assert.equal(run.body.ok, true);
    assert.deepEqual(run.body.discrepancies, []);
    // Deposits 40,000 in, a withdrawal of 400 out; clearing is back at zero with nothing in flight.
    assert.deepEqual(usd(run), {
      currency: 'USD',
      customer: 39_600,
      clearing: 0,
      settlement: -39_600,
      fx: 0,
      payouts_in_flight: 0,
      in_flight: 0,
      in_flight_transfers: 0,
    });
  });

  it('reports a balance corrupted in SQL: the account and the per-currency sums, at the API and in the metrics', async () => {
    const victim = users[1]!;
    const shard = stack.shards.shardOf(victim);
    const accountId = `customer:${victim}:USD`;
    await stack.shards
      .pool(shard)
      .query('update accounts set balance = balance + 1 where account_id = $1', [accountId]);
    try {
      const summary = await reconcile();
      assert.equal(summary.ok, false);
      const run = await latestRun();
      assert.equal(run.body.run_id, summary.runId);
      assert.equal(run.body.ok, false);
      assert.equal(run.body.discrepancy_count, run.body.discrepancies.length);
      const mismatch = run.body.discrepancies.find((line: { kind: string }) => line.kind === 'balance_mismatch');
      assert.equal(mismatch.account_id, accountId);
      assert.equal(mismatch.shard, shard);
      assert.equal(mismatch.stored, mismatch.computed + 1);
      assert.deepEqual(
        run.body.discrepancies.filter((line: { kind: string }) => line.kind !== 'balance_mismatch'),
        [
          { kind: 'shard_sum_nonzero', shard, currency: 'USD', sum: 1 },
          { kind: 'currency_sum_nonzero', currency: 'USD', sum: 1 },
        ],
      );
      const metrics = await stack.api.call('GET', '/metrics');
      assert.match(metrics.body, /^wallet_reconciliation_ok 0$/m);
      assert.match(metrics.body, /^wallet_reconciliation_discrepancies 3$/m);
      const lastRun = Number(/^wallet_reconciliation_last_run_timestamp_seconds (\S+)$/m.exec(metrics.body)?.[1]);
      assert.ok(Math.abs(lastRun - Date.parse(run.body.finished_at) / 1000) < 0.01, `last run ${lastRun}`);
    } finally {
      await stack.shards
        .pool(shard)
        .query('update accounts set balance = balance - 1 where account_id = $1', [accountId]);
    }
    assert.equal((await reconcile()).ok, true);
  });

  it('counts money in flight as such: a PENDING transfer past its debit, a reversal between its legs', async () => {
    await plantDebitWithoutCredit(users[2]!, users[3]!, 250n, 'PENDING');
    // The first leg of a reversal of a COMPLETED cross-shard transfer (users[0] paid users[1] 1,500).
    const recipient = users[1]!;
    const reversal = await postReversalDebit(stack.shards.pool(stack.shards.shardOf(recipient)), {
      transferId: crossShardTransferId,
      userId: recipient,
      amountMinor: 1_500n,
      currency: 'USD',
      counterparty: 'clearing',
      allowNegative: false,
      workflowId: 'planted',
      runId: 'planted',
    });
    assert.equal(reversal.outcome, 'posted');
    const summary = await reconcile();
    assert.equal(summary.ok, true);
    assert.deepEqual(usd(await latestRun()), {
      currency: 'USD',
      customer: 37_850,
      clearing: 1_750,
      settlement: -39_600,
      fx: 0,
      payouts_in_flight: 0,
      in_flight: 1_750,
      in_flight_transfers: 2,
    });
  });

  it('creates the reconciliation schedule, updates it when it exists, and its runs land', async () => {
    const scheduleId = uniqueName('reconcile-schedule');
    await ensureReconcileSchedule({ client: stack.client, taskQueue: stack.taskQueue, everyMs: 3_600_000, scheduleId });
    // Again, as every later worker start does: an update, not an error.
    await ensureReconcileSchedule({ client: stack.client, taskQueue: stack.taskQueue, everyMs: 600_000, scheduleId });
    const handle = stack.client.schedule.getHandle(scheduleId);
    try {
      const described = await handle.describe();
      assert.equal(described.action.workflowType, 'reconcileWorkflow');
      assert.equal(described.action.taskQueue, stack.taskQueue);
      assert.deepEqual(
        described.spec.intervals?.map((interval) => interval.every),
        [600_000],
      );
      assert.equal(described.policies.overlap, 'SKIP');

      const before = (await latestRun()).body.run_id;
      await handle.trigger();
      const deadline = Date.now() + scheduled_run_wait_max_ms;
      let latest = before;
      while (latest === before && Date.now() < deadline) {
        await sleep(200);
        latest = (await latestRun()).body.run_id;
      }
      assert.notEqual(latest, before, 'the triggered run never landed');
      assert.match((await latestRun()).body.workflow_id, new RegExp(`^${scheduleId}`));
    } finally {
      await handle.delete();
    }
  });

  it('reports money left in clearing by a transfer that is final', async () => {
    const [from, to] = [users[3]!, users[0]!];
    const transferId = await plantDebitWithoutCredit(from, to, 40n, 'COMPLETED');
    const summary = await reconcile();
    assert.equal(summary.ok, false);
    const run = await latestRun();
    assert.deepEqual(run.body.discrepancies, [
      { kind: 'clearing_not_in_flight', transfer_id: transferId, currency: 'USD', net: 40, status: 'COMPLETED' },
      // What the test before left in flight is still in flight; this one is not.
      { kind: 'clearing_total_mismatch', currency: 'USD', clearing: 1_790, in_flight: 1_750 },
    ]);
  });

  it('bounds a run when much is wrong in clearing: buckets past the cap are reported as one unexplained sum', async () => {
    const planted = 70;
    for (let index = 0; index < planted; index++) await plantDebitWithoutCredit(users[0]!, users[2]!, 1n, 'COMPLETED');
    const summary = await reconcile();
    const run = await latestRun();
    const lines: { kind: string; net?: number; clearing?: number; in_flight?: number }[] = run.body.discrepancies;
    assert.equal(summary.discrepancyCount, lines.length);
    assert.ok(lines.length <= discrepancies_listed_max);
    const confirmed = lines.filter((line) => line.kind === 'clearing_not_in_flight');
    const unexplained = lines.filter((line) => line.kind === 'clearing_unexplained');
    // 71 final transfers with money in clearing, and the reversal in flight, spread over more buckets than one run reads;
    // each bucket read holds one of them at least.
    assert.ok(
      confirmed.length >= clearing_buckets_read_max - 1 && confirmed.length < planted + 1,
      `${confirmed.length} confirmed`,
    );
    assert.equal(unexplained.length, 1);
    const total = lines.at(-1)!;
    assert.deepEqual([total.kind, total.clearing], ['clearing_total_mismatch', 1_790 + planted]);
    // Every minor unit in clearing is accounted for: in flight, confirmed, or unexplained.
    const confirmedNet = confirmed.reduce((sum, line) => sum + line.net!, 0);
    assert.equal(total.in_flight! + confirmedNet + unexplained[0]!.net!, total.clearing);
  });

  it('reports an entry whose amount was altered in SQL: its broken hash chain and its account', async () => {
    const victim = users[2]!;
    const shard = stack.shards.shardOf(victim);
    const pool = stack.shards.pool(shard);
    const accountId = `customer:${victim}:USD`;
    const target = await pool.query<{ entry_id: string; amount: string }>(
      `select entry_id::text as entry_id, amount::text as amount from entries where account_id = $1 and kind = 'deposit' order by entry_id limit 1`,
      [accountId],
    );
    const { entry_id: entryId, amount } = target.rows[0]!;
    // As a superuser could: the append-only trigger off for one statement.
    const alter = async (to: string) => {
      await pool.query('alter table entries disable trigger entries_append_only');
      try {
        await pool.query('update entries set amount = $2::bigint where entry_id = $1::bigint', [entryId, to]);
      } finally {
        await pool.query('alter table entries enable trigger entries_append_only');
      }
    };
    await alter((BigInt(amount) + 1n).toString());
    try {
      const summary = await reconcile();
      assert.equal(summary.ok, false);
      const run = await latestRun();
      const lines: { kind: string; account_id?: string; entry_id?: string }[] = run.body.discrepancies;
      assert.deepEqual(
        lines.find((line) => line.kind === 'chain_broken'),
        {
          kind: 'chain_broken',
          shard,
          entry_id: entryId,
          account_id: accountId,
          currency: 'USD',
          problem: 'hash_mismatch',
        },
      );
      assert.ok(lines.some((line) => line.kind === 'balance_mismatch' && line.account_id === accountId));
    } finally {
      await alter(amount);
    }
    // The original amount back, the chain holds again (what the tests before planted in clearing stays).
    await reconcile();
    const kinds = new Set((await latestRun()).body.discrepancies.map((line: { kind: string }) => line.kind));
    assert.deepEqual([kinds.has('chain_broken'), kinds.has('balance_mismatch')], [false, false]);
  });

  /**
   * A debit as post_leg writes it (customer -X, clearing +X, the posting, its two entries) with
   * no credit after it, under a transfer record in the given status. Balances stay equal to their
   * entries, so only the clearing checks can see what is wrong.
   */
  async function plantDebitWithoutCredit(
    from: string,
    to: string,
    amount: bigint,
    status: 'PENDING' | 'COMPLETED',
  ): Promise<string> {
    const transferId = `tr_${randomBytes(16).toString('hex')}`;
    await stack.shards.withTransaction(stack.shards.shardOf(from), async (client) => {
      await client.query(
        `insert into transfers (transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency, idempotency_key, request_hash, status, completed_at)
         values ($1, 'transfer', $2, $2, $3, $4, 'USD', $1, 'planted', $5::text, case when $5::text = 'PENDING' then null else now() end)`,
        [transferId, from, to, amount.toString(), status],
      );
      await client.query(
        `insert into postings (transfer_id, leg, outcome, workflow_id, run_id) values ($1, 'debit', 'posted', 'planted', 'planted')`,
        [transferId],
      );
      const moved = await client.query<{ account_id: string; balance: string }>(
        `update accounts set balance = balance + case kind when 'customer' then -$3::bigint else $3::bigint end
          where account_id in ($1, $2) returning account_id, balance`,
        [`customer:${from}:USD`, 'clearing:USD', amount.toString()],
      );
      assert.equal(moved.rowCount, 2);
      for (const row of moved.rows) {
        const customer = row.account_id.startsWith('customer:');
        await client.query(
          `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
           values ($1, 'debit', $2, 'USD', $3, $4, $5, 'planted', 'planted')`,
          [
            transferId,
            row.account_id,
            (customer ? -amount : amount).toString(),
            row.balance,
            customer ? 'transfer_out' : 'clearing',
          ],
        );
      }
    });
    return transferId;
  }
});
