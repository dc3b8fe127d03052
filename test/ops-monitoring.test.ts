import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { postReversalCredit, postReversalDebit, recordReversal } from '../ledger/reversals';
import { exposeSdkMetrics, walletMetrics } from '../metrics/wallet-metrics';
import { checkTransfers } from '../workers/transfer-monitor';
import { driftedAccounts, userOnShard } from './support/ledger';
import { startTestStack, test_limits, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** Temporal visibility is eventually consistent: what a test reads from it, it polls for. */
const visibility_wait_ms = 30_000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + visibility_wait_ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not seen within ${visibility_wait_ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface ListedTransfer {
  transfer_id: string;
  status: string;
  from_user: string;
  to_user: string;
  amount: number;
  currency: string;
  started_at: string;
}

/** Pages of the listing a probe walks: other test files share the Temporal namespace and add their transfers to it. */
const listing_pages_max = 20;

/** The listing's entry for a transfer, once visibility shows it (on whichever page newer transfers pushed it to). */
function listed(stack: TestStack, query: string, transferId: string): Promise<ListedTransfer> {
  return eventually(`${transferId} in /v1/ops/transfers?${query}`, async () => {
    let cursor: string | null = null;
    for (let page = 0; page < listing_pages_max; page++) {
      const answer = await stack.api.call(
        'GET',
        `/v1/ops/transfers?${query}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        stack.api.ops,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const found = (answer.body.transfers as ListedTransfer[]).find((transfer) => transfer.transfer_id === transferId);
      cursor = answer.body.next_cursor;
      if (found || !cursor) return found;
    }
    return undefined;
  });
}

/** Low enough for the review-queue test to hold a real transfer; the other transfers here stay below it. */
const review_threshold_minor = 100_000n;

describe('ops transfer listing and metrics', () => {
  let stack: TestStack;
  let alice: string;
  let bob: string;
  let completedId: string;
  before(async () => {
    stack = await startTestStack({ limits: { ...test_limits, reviewThresholdMinor: review_threshold_minor } });
    alice = userOnShard(stack.shards, 0, 'alice');
    bob = userOnShard(stack.shards, 1, 'bob');
    assert.equal((await stack.api.createUser(alice)).status, 201);
    assert.equal((await stack.api.createUser(bob)).status, 201);
    assert.equal((await stack.api.deposit(alice, 1_000)).body.status, 'COMPLETED');
    const sent = await stack.api.transfer(alice, bob, 250);
    assert.equal(sent.body.status, 'COMPLETED', JSON.stringify(sent.body));
    completedId = sent.body.transfer_id;
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  it('lists a transfer by its status, from the search attributes', async () => {
    const entry = await listed(stack, 'status=COMPLETED', completedId);
    assert.deepEqual(
      { ...entry, started_at: undefined },
      {
        transfer_id: completedId,
        status: 'COMPLETED',
        from_user: alice,
        to_user: bob,
        amount: 250,
        currency: 'USD',
        started_at: undefined,
      },
    );
    assert.ok(Math.abs(Date.parse(entry.started_at) - Date.now()) < 120_000, entry.started_at);
    const failed = await stack.api.call('GET', '/v1/ops/transfers?status=FAILED&limit=100', stack.api.ops);
    assert.equal(failed.status, 200);
    assert.ok(!failed.body.transfers.some((transfer: ListedTransfer) => transfer.transfer_id === completedId));
  });

  it('pages with an opaque cursor that works only for its own listing', async () => {
    // The deposit and the transfer are both COMPLETED: at least two pages of one.
    await listed(stack, 'status=COMPLETED', completedId);
    const first = await stack.api.call('GET', '/v1/ops/transfers?status=COMPLETED&limit=1', stack.api.ops);
    assert.equal(first.body.transfers.length, 1);
    assert.match(first.body.next_cursor, /^[A-Za-z0-9_-]+$/);
    const second = await stack.api.call(
      'GET',
      `/v1/ops/transfers?status=COMPLETED&limit=1&cursor=${first.body.next_cursor}`,
      stack.api.ops,
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.transfers.length, 1);
    assert.notEqual(second.body.transfers[0].transfer_id, first.body.transfers[0].transfer_id);
    const elsewhere = await stack.api.call(
      'GET',
      `/v1/ops/transfers?status=FAILED&cursor=${first.body.next_cursor}`,
      stack.api.ops,
    );
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error.code, 'invalid_request');
  });

  it('refuses bad query values with 400 invalid_request', async () => {
    const bad = [
      'status=DONE',
      'status=completed',
      'status=PENDING&status=FAILED',
      'limit=0',
      'limit=101',
      'limit=ten',
      'stuck=yes',
      'stuck=true&status=PENDING',
      'cursor=not%20base64',
      `cursor=${'A'.repeat(40)}`,
      `cursor=${'A'.repeat(3_000)}`,
      'cursor=',
      'owner=user_A',
    ];
    for (const query of bad) {
      const answer = await stack.api.call('GET', `/v1/ops/transfers?${query}`, stack.api.ops);
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'invalid_request', query);
    }
  });

  it('is for ops only', async () => {
    const customer = await stack.api.call('GET', '/v1/ops/transfers?status=PENDING_REVIEW', { as: alice });
    assert.equal(customer.status, 403);
    assert.equal(customer.body.error.code, 'forbidden');
    assert.equal((await stack.api.call('GET', '/v1/ops/transfers')).status, 401);
  });

  it('shows the review queue by status and counts it in a gauge', async () => {
    // A real transfer at the review threshold, held by its own workflow until an operator decides.
    assert.equal((await stack.api.deposit(alice, 200_000)).body.status, 'COMPLETED');
    const sent = await stack.api.transfer(alice, bob, Number(review_threshold_minor), uniqueName('held'), 0);
    assert.ok(sent.status === 200 || sent.status === 202, JSON.stringify(sent.body));
    const heldId = sent.body.transfer_id as string;
    const entry = await listed(stack, 'status=PENDING_REVIEW', heldId);
    assert.equal(entry.amount, Number(review_threshold_minor));
    assert.equal(entry.from_user, alice);
    const logger = pino({ level: 'silent' });
    const check = () =>
      checkTransfers({ client: stack.client, logger, metrics: walletMetrics(), stuckAfterMs: 300_000 });
    await eventually('the review queue gauge', async () => ((await check()).reviewQueue >= 1 ? true : undefined));
    const metrics = await stack.api.call('GET', '/metrics');
    assert.match(String(metrics.body), /^wallet_review_queue_length [1-9][0-9]*$/m);
    // Rejected, it leaves the queue: what was counted was this transfer's review, not a stand-in.
    const rejected = await stack.api.call('POST', `/v1/ops/transfers/${heldId}/reject`, {
      ...stack.api.ops,
      body: { reason: 'test over' },
    });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal((await listed(stack, 'status=FAILED', heldId)).transfer_id, heldId);
  });

  it('shows the new series on /metrics after a transfer', async () => {
    const text = String((await stack.api.call('GET', '/metrics')).body);
    assert.match(text, /^wallet_activity_duration_seconds_count\{activity="debitWallet",outcome="succeeded"\} [1-9]/m);
    assert.match(text, /^wallet_activity_duration_seconds_count\{activity="creditWallet",outcome="succeeded"\} [1-9]/m);
    assert.match(text, /^# TYPE wallet_activity_retries_total counter$/m);
    assert.match(text, /^wallet_transfer_duration_seconds_count [1-9]/m);
    assert.match(text, /^wallet_transfers_finished_total\{kind="[a-z]+",status="COMPLETED",reason="none"\} [1-9]/m);
    assert.match(text, /^# TYPE wallet_transfers_stuck gauge$/m);
    assert.match(text, /^# TYPE wallet_review_queue_length gauge$/m);
    // The API's series and the worker's share one registry, and no label carries an id.
    assert.match(text, /^wallet_transfers_submitted_total\{kind="transfer",replayed="false"\} [1-9]/m);
    assert.doesNotMatch(text, new RegExp(`${alice}|${bob}|${completedId}`));
  });

  it('appends the Temporal SDK metrics, and serves its own when they cannot be fetched', async () => {
    const exporter: Server = createServer((_request, response) =>
      response.end('# TYPE temporal_test_metric counter\ntemporal_test_metric 7\n'),
    );
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    exposeSdkMetrics(address);
    const withSdk = await stack.api.call('GET', '/metrics');
    assert.equal(withSdk.status, 200);
    assert.match(String(withSdk.body), /^wallet_transfer_duration_seconds_count /m);
    assert.match(String(withSdk.body), /^temporal_test_metric 7$/m);
    await new Promise((resolve) => exporter.close(resolve));
    const withoutSdk = await stack.api.call('GET', '/metrics');
    assert.equal(withoutSdk.status, 200);
    assert.match(String(withoutSdk.body), /^wallet_transfer_duration_seconds_count /m);
    assert.doesNotMatch(String(withoutSdk.body), /temporal_test_metric/);
  });

  it('documents the listing in the OpenAPI document', async () => {
    const document = await stack.api.call('GET', '/openapi.json');
    assert.ok(document.body.paths['/v1/ops/transfers']?.get, 'GET /v1/ops/transfers is documented');
  });

  it('counts and logs a reversal whose debit posted and whose credit did not, until the credit posts', async () => {
    const sent = await stack.api.transfer(alice, bob, 100);
    assert.equal(sent.body.status, 'COMPLETED', JSON.stringify(sent.body));
    const transferId: string = sent.body.transfer_id;
    const leg = { transferId, currency: 'USD', amountMinor: 100n, counterparty: 'clearing' as const };
    const run = { workflowId: transferId, runId: 'half-reversal-test' };
    // The first leg only, on the recipient's shard, as a reverse workflow that stopped between its legs leaves it.
    const debit = await postReversalDebit(stack.shards.pool(1), { ...leg, ...run, userId: bob, allowNegative: false });
    assert.equal(debit.outcome, 'posted');

    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const metrics = walletMetrics();
    const check = async () => {
      lines.length = 0;
      const result = await checkTransfers({
        client: stack.client,
        logger,
        metrics,
        stuckAfterMs: 300_000,
        ledger: { shards: stack.shards.pools, activityTimeoutMs: 1 },
      });
      const line = lines
        .map((text) => JSON.parse(text) as { transfer_ids?: string[]; half_reversed_transfers?: number; level: number })
        .find((logged) => logged.half_reversed_transfers !== undefined);
      return { result, line, gauge: (await metrics.transfersHalfReversed.get()).values[0]?.value };
    };
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Other test files share the shards, so this test counts its own transfer, not an exact total.
    const half = await check();
    assert.ok(half.result.halfReversed >= 1);
    assert.equal(half.gauge, half.result.halfReversed);
    assert.equal(half.line?.level, 50, 'logged as an error');
    assert.equal(half.line.half_reversed_transfers, half.result.halfReversed);
    assert.ok(half.line.transfer_ids!.includes(transferId), JSON.stringify(half.line));
    assert.ok(half.line.transfer_ids!.length <= 20, 'a bounded list');
    assert.match(
      String((await stack.api.call('GET', '/metrics')).body),
      /^wallet_transfers_half_reversed [1-9][0-9]*$/m,
    );

    // The credit on the sender's shard (another shard): no longer half done.
    await postReversalCredit(stack.shards.pool(0), { ...leg, ...run, userId: alice });
    await recordReversal(stack.shards.pool(0), {
      transferId,
      operator: 'ops-test',
      reason: 'test',
      forced: false,
      via: 'update',
    });
    const done = await check();
    assert.equal(done.gauge, done.result.halfReversed);
    assert.ok(!(done.line?.transfer_ids ?? []).includes(transferId));
  });
});

describe('stuck transfers', () => {
  const stuck_after_ms = 1_000;
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ withWorker: false, stuckAfterMs: stuck_after_ms });
  });
  after(async () => {
    await stack.stop();
  });

  it('lists, counts and logs a transfer that no worker runs, until it finishes', async () => {
    const alice = userOnShard(stack.shards, 2, 'alice');
    const bob = userOnShard(stack.shards, 3, 'bob');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
    const accepted = await stack.api.transfer(alice, bob, 100, uniqueName('k'), 0);
    assert.equal(accepted.status, 202);
    const transferId: string = accepted.body.transfer_id;

    const entry = await listed(stack, 'stuck=true', transferId);
    assert.equal(entry.status, 'PENDING');
    assert.ok(Date.parse(entry.started_at) <= Date.now() - stuck_after_ms);

    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const check = await eventually('the monitor naming the stuck transfer', async () => {
      const result = await checkTransfers({
        client: stack.client,
        logger,
        metrics: walletMetrics(),
        stuckAfterMs: stuck_after_ms,
      });
      const line = lines
        .map((text) => JSON.parse(text) as { transfer_ids?: string[]; level: number })
        .find((logged) => logged.transfer_ids?.includes(transferId));
      return line ? { result, line } : undefined;
    });
    assert.ok(check.result.stuck >= 1);
    assert.equal(check.line.level, 50, 'logged as an error');
    assert.ok(check.line.transfer_ids!.length <= 20, 'a bounded list');
    assert.match(String((await stack.api.call('GET', '/metrics')).body), /^wallet_transfers_stuck [1-9][0-9]*$/m);

    // A worker comes back: the transfer finishes (alice has no money) and is no longer stuck.
    await stack.startWorker();
    const final = await stack.api.call('GET', `/v1/wallet/transfers/${transferId}?wait=30`, { as: alice });
    assert.equal(final.body.status, 'FAILED');
    await eventually(`${transferId} gone from the stuck listing`, async () => {
      const answer = await stack.api.call('GET', '/v1/ops/transfers?stuck=true&limit=100', stack.api.ops);
      return answer.body.transfers.some((transfer: ListedTransfer) => transfer.transfer_id === transferId)
        ? undefined
        : true;
    });
  });
});
