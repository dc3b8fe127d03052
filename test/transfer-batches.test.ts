import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { driftedAccounts, userOnShard } from './support/ledger';
import { poisonTriggerSql } from './support/poison';
import { startTestStack, test_limits, test_timings, type ApiAnswer, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';
import pino from 'pino';
import { walletMetrics } from '../metrics/wallet-metrics';
import { sweepOrphanedBatches } from '../workers/orphan-batches';
import { checkTransfers } from '../workers/transfer-monitor';

/** Refuses marking COMPLETED the batches of payers listed in test_poison_batch (SQLSTATE 23514, as a broken constraint would). */
const batch_poison_sql = [
  'create table if not exists test_poison_batch (payer_user_id text primary key);',
  poisonTriggerSql(
    'test_poison_batch',
    'update',
    'transfer_batches',
    "new.status = 'COMPLETED' and exists (select 1 from test_poison_batch p where p.payer_user_id = new.payer_user_id)",
  ),
].join('\n');

/** Batches end to end: API -> batch workflow -> item transfer workflows -> PostgreSQL shards. */
describe('transfer batches through the API', () => {
  let stack: TestStack;
  before(async () => {
    // Held items wait for a reviewer (the default timings have no review window).
    stack = await startTestStack({ timings: { ...test_timings, reviewTimeoutMs: 120_000 } });
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  async function user(shard: number, deposit = 0): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'batch');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (deposit > 0) assert.equal((await stack.api.deposit(userId, deposit)).body.status, 'COMPLETED');
    return userId;
  }

  const item = (to: string, amount: number, key = uniqueName('item'), extra: object = {}) => ({
    to_user_id: to,
    amount,
    currency: 'USD',
    idempotency_key: key,
    ...extra,
  });

  const submit = (payer: string, items: object[], key = uniqueName('batch'), as = payer) =>
    stack.api.call('POST', '/v1/wallet/transfer-batches', {
      as,
      body: { from_user_id: payer, idempotency_key: key, items },
    });

  const read = (batchId: string, payer: string, query = '') =>
    stack.api.call('GET', `/v1/wallet/transfer-batches/${batchId}${query}`, { as: payer });

  function expectError(answer: ApiAnswer, status: number, code: string): void {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
  }

  it('pays 50 items once, a frozen and a closed recipient fail alone, and the batch completes listing them', async () => {
    const payer = await user(0, 1_000_000);
    const recipients = await Promise.all(Array.from({ length: 48 }, (_, index) => user(index % 4)));
    const frozen = await user(1);
    const closed = await user(2);
    assert.equal((await stack.api.call('POST', `/v1/ops/users/${frozen}/freeze`, stack.api.ops)).status, 200);
    const closing = await stack.api.call('POST', `/v1/ops/users/${closed}/close`, {
      ...stack.api.ops,
      body: { reason: 'left the company' },
    });
    assert.equal(closing.status, 200, JSON.stringify(closing.body));
    const items = [...recipients.map((to, index) => item(to, 100 + index)), item(frozen, 1_000), item(closed, 2_000)];
    const total = items.reduce((sum, entry) => sum + entry.amount, 0);
    const key = uniqueName('payroll');
    const accepted = await submit(payer, items, key);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.match(accepted.body.batch_id, /^tb_[0-9a-f]{32}$/);
    assert.equal(accepted.body.item_count, 50);
    assert.equal(accepted.body.total_amount, total);

    const done = await read(accepted.body.batch_id, payer, '?wait=30&limit=1000');
    assert.equal(done.status, 200);
    assert.equal(done.body.status, 'COMPLETED', JSON.stringify(done.body.counts));
    assert.deepEqual(done.body.counts, { COMPLETED: 48, FAILED: 2 });
    const failed = done.body.items.filter((entry: { status: string }) => entry.status === 'FAILED');
    assert.deepEqual(
      failed.map((entry: { to_user_id: string; failure_reason: string }) => [entry.to_user_id, entry.failure_reason]),
      [
        [frozen, 'user_frozen'],
        [closed, 'wallet_closed'],
      ],
    );
    assert.equal(await stack.api.balance(payer), 1_000_000 - (total - 3_000));
    for (const [index, to] of recipients.entries()) assert.equal(await stack.api.balance(to), 100 + index);

    // Resubmitting the same batch answers the same batch and moves nothing again.
    const again = await submit(payer, items, key);
    assert.equal(again.status, 202);
    assert.equal(again.body.batch_id, accepted.body.batch_id);
    assert.equal(await stack.api.balance(payer), 1_000_000 - (total - 3_000));
    // The batch workflow records the batch COMPLETED once it saw every item final.
    const handle = stack.client.workflow.getHandle(accepted.body.batch_id);
    assert.deepEqual(await handle.result(), { itemCount: 50 });
    const events = (await handle.fetchHistory()).events ?? [];
    assert.ok(events.length < 200, `the batch's history has ${events.length} events`);
  });

  it('pages the items with a cursor', async () => {
    const payer = await user(1, 10_000);
    const to = await Promise.all([user(0), user(2), user(3)]);
    const items = [item(to[0]!, 10), item(to[1]!, 20), item(to[2]!, 30), item(to[0]!, 40), item(to[1]!, 50)];
    const accepted = await submit(payer, items);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiAnswer = await read(
        accepted.body.batch_id,
        payer,
        `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((entry: { amount: number }) => entry.amount));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    assert.deepEqual(seen, [10, 20, 30, 40, 50]);
    const done = await read(accepted.body.batch_id, payer, '?wait=30');
    assert.equal(done.body.status, 'COMPLETED');
    assert.deepEqual(done.body.counts, { COMPLETED: 5 });
    // The items' keys are their own: each one reads as the transfer a single POST would have made.
    const first = done.body.items[0];
    assert.equal(first.idempotency_key, items[0]!.idempotency_key);
    const transfer = await stack.api.call('GET', `/v1/wallet/transfers/${first.transfer_id}`, { as: payer });
    assert.equal(transfer.body.status, 'COMPLETED');
  });

  it('does not do twice an item whose key was already used by a single transfer', async () => {
    const payer = await user(2, 10_000);
    const bob = await user(3);
    const carol = await user(0);
    const key = uniqueName('salary');
    const single = await stack.api.transfer(payer, bob, 700, key);
    assert.equal(single.body.status, 'COMPLETED');
    const accepted = await submit(payer, [item(bob, 700, key), item(carol, 300)]);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const done = await read(accepted.body.batch_id, payer, '?wait=30');
    assert.equal(done.body.status, 'COMPLETED');
    assert.equal(done.body.items[0].transfer_id, single.body.transfer_id);
    assert.equal(await stack.api.balance(bob), 700);
    assert.equal(await stack.api.balance(carol), 300);
    assert.equal(await stack.api.balance(payer), 9_000);
    // The same key with another amount names another transfer: refused whole.
    expectError(await submit(payer, [item(bob, 701, key)]), 422, 'idempotency_key_reused');
  });

  it('refuses a batch over the daily limit whole, before any item starts', async () => {
    const payer = await user(3, 10_000);
    const bob = await user(1);
    const limit = await stack.api.call('PUT', `/v1/ops/users/${payer}/limits/USD`, {
      ...stack.api.ops,
      body: { daily_outgoing_max: 5_000, reason: 'test' },
    });
    assert.equal(limit.status, 200, JSON.stringify(limit.body));
    assert.equal((await stack.api.transfer(payer, bob, 1_000)).body.status, 'COMPLETED');
    const over = await submit(payer, [item(bob, 2_000), item(bob, 2_001)]);
    expectError(over, 422, 'limit_exceeded');
    assert.equal(await stack.api.balance(payer), 9_000);
    assert.equal(await stack.api.balance(bob), 1_000);
    const within = await submit(payer, [item(bob, 2_000), item(bob, 2_000)]);
    assert.equal(within.status, 202, JSON.stringify(within.body));
    assert.equal((await read(within.body.batch_id, payer, '?wait=30')).body.counts.COMPLETED, 2);
  });

  it('holds an item at the review threshold for review, alone', async () => {
    const payer = await user(0, Number(test_limits.reviewThresholdMinor) * 2);
    const bob = await user(1);
    const accepted = await submit(payer, [item(bob, Number(test_limits.reviewThresholdMinor)), item(bob, 5)]);
    const state = await read(accepted.body.batch_id, payer, '?wait=2');
    assert.equal(state.body.status, 'RUNNING');
    assert.deepEqual(state.body.counts, { PENDING_REVIEW: 1, COMPLETED: 1 });
  });

  it('starts again a batch whose workflow was terminated before it completed (the orphan sweep)', async () => {
    const payer = await user(2, Number(test_limits.reviewThresholdMinor) * 2);
    const bob = await user(3);
    // The held item keeps the batch RUNNING, so its workflow is there to terminate.
    const accepted = await submit(payer, [item(bob, Number(test_limits.reviewThresholdMinor)), item(bob, 7)]);
    const handle = stack.client.workflow.getHandle(accepted.body.batch_id);
    await read(accepted.body.batch_id, payer, '?wait=2');
    await handle.terminate('test: the process that ran it is gone');
    const swept = await sweepOrphanedBatches({
      shards: stack.shards,
      client: stack.client,
      taskQueue: stack.taskQueue,
      timings: { ...test_timings, reviewTimeoutMs: 120_000 },
      limits: test_limits,
      orphanAgeMinMs: 0,
    });
    assert.ok(swept >= 1, `${swept} batches swept`);
    const restarted = await stack.client.workflow.getHandle(accepted.body.batch_id).describe();
    assert.equal(restarted.status.name, 'RUNNING');
    assert.deepEqual((await read(accepted.body.batch_id, payer)).body.counts, { PENDING_REVIEW: 1, COMPLETED: 1 });
  });

  it('refuses every bad batch with a documented 4xx, and nothing moves', async () => {
    const payer = await user(1, 10_000);
    const bob = await user(2);
    const mallory = await user(3);
    const many = Array.from({ length: 1_001 }, (_, index) => item(bob, 1, `k${index}`));
    const cases: [string, Promise<ApiAnswer>, number, string][] = [
      ['empty', submit(payer, []), 400, 'invalid_request'],
      ['1,001 items', submit(payer, many), 400, 'invalid_request'],
      ['zero amount', submit(payer, [item(bob, 0)]), 400, 'invalid_request'],
      ['fractional amount', submit(payer, [item(bob, 1.5)]), 400, 'invalid_request'],
      ['bad currency', submit(payer, [item(bob, 1, undefined, { currency: 'usd' })]), 400, 'invalid_request'],
      ['unknown currency', submit(payer, [item(bob, 1, undefined, { currency: 'XXX' })]), 422, 'unsupported_currency'],
      [
        'mixed currencies',
        submit(payer, [item(bob, 1), item(bob, 1, undefined, { currency: 'EUR' })]),
        400,
        'invalid_request',
      ],
      ['bad recipient id', submit(payer, [item('no such user!', 1)]), 400, 'invalid_request'],
      ['unknown recipient', submit(payer, [item(uniqueName('ghost'), 1)]), 404, 'user_not_found'],
      ['the payer itself', submit(payer, [item(bob, 1), item(payer, 1)]), 422, 'same_user'],
      ['duplicate item keys', submit(payer, [item(bob, 1, 'same'), item(bob, 2, 'same')]), 400, 'invalid_request'],
      ['payer not the caller', submit(payer, [item(bob, 1)], undefined, mallory), 403, 'forbidden'],
      [
        'over the per-transfer max',
        submit(payer, [item(bob, Number(test_limits.transferAmountMaxMinor) + 1)]),
        422,
        'limit_exceeded',
      ],
    ];
    for (const [why, answer, status, code] of cases) {
      const got = await answer;
      assert.equal(got.status, status, `${why}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.error.code, code, why);
    }
    const key = uniqueName('reused');
    assert.equal((await submit(payer, [item(bob, 1, 'a')], key)).status, 202);
    expectError(await submit(payer, [item(bob, 2, 'a')], key), 422, 'idempotency_key_reused');
    await read(batchIdOf((await submit(payer, [item(bob, 1, 'a')], key)).body), payer, '?wait=30');
    assert.equal(await stack.api.balance(payer), 9_999);
    assert.equal(await stack.api.balance(bob), 1);
    // Nobody but the payer (and ops) sees a batch; others get the 404 of a missing one.
    const accepted = await submit(payer, [item(bob, 1, 'b')]);
    expectError(await read(accepted.body.batch_id, mallory), 404, 'batch_not_found');
    expectError(await read(`tb_${'0'.repeat(32)}`, payer), 404, 'batch_not_found');
    expectError(await read('tb_nope', payer), 400, 'invalid_request');
    expectError(await read(accepted.body.batch_id, payer, '?cursor=x'), 400, 'invalid_request');
    assert.equal(
      (await stack.api.call('GET', `/v1/wallet/transfer-batches/${accepted.body.batch_id}`, stack.api.ops)).status,
      200,
    );
  });

  it('flags a batch whose step fails in a way no retry can fix NEEDS_ATTENTION, without spinning', async () => {
    const payer = await user(0, 10_000);
    const payee = await user(1);
    // The payer's batches cannot be marked COMPLETED: a check_violation on every attempt.
    const pool = stack.shards.pool(stack.shards.shardOf(payer));
    await pool.query(batch_poison_sql);
    await pool.query('insert into test_poison_batch (payer_user_id) values ($1::text)', [payer]);
    const accepted = await submit(payer, [item(payee, 100)]);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const batchId = accepted.body.batch_id as string;
    const handle = stack.client.workflow.getHandle(batchId);
    const flagged = `WorkflowId = '${batchId}' AND BatchStatus = 'NEEDS_ATTENTION'`;
    for (const until = Date.now() + 30_000; (await stack.client.workflow.count(flagged)).count === 0;) {
      assert.ok(Date.now() < until, 'the batch was never flagged NEEDS_ATTENTION');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const metrics = walletMetrics();
    const monitor = await checkTransfers({
      client: stack.client,
      logger: pino({ level: 'silent' }),
      metrics,
      stuckAfterMs: 300_000,
    });
    assert.ok(monitor.batchesNeedingAttention >= 1);
    assert.ok(((await metrics.batchesNeedingAttention.get()).values[0]?.value ?? 0) >= 1);
    // Its item is done; the batch's workflow stays open on a timer, with no activity retrying.
    const read = await stack.api.call('GET', `/v1/wallet/transfer-batches/${batchId}`, { as: payer });
    assert.deepEqual(read.body.counts, { COMPLETED: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const described = await handle.describe();
    assert.equal(described.status.name, 'RUNNING');
    assert.deepEqual(described.raw.pendingActivities ?? [], []);
    const history = await handle.fetchHistory();
    const completeAttempts = (history.events ?? []).filter(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'completeBatch',
    );
    assert.equal(completeAttempts.length, 1);
    await pool.query('delete from test_poison_batch where payer_user_id = $1::text', [payer]);
    await handle.terminate('test over');
  });
});

function batchIdOf(body: { batch_id: string }): string {
  return body.batch_id;
}
