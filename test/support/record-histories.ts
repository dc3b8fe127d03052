/**
 * Records the workflow histories the replay test (test/workflow-replay.test.ts) replays: one
 * transfer of each shape, run to its end on the real stack, and a webhook delivery that retried,
 * each history written as JSON.
 * Not part of the suite; run it when the workflow code changes, on the code BEFORE the change
 * (a checkout of the previous commit), so the fixtures are what transfers in flight during a
 * deploy would carry:
 *
 *   WALLET_TEST_SKIP_STATIC=1 HISTORY_OUT=$PWD/test/fixtures/workflow-histories HISTORY_TAG=<commit> \
 *     npm test -- test/support/record-histories.ts
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { userOnShard } from './ledger';
import { webhookTaskQueueOf } from '../../temporal-client/webhook-deliveries';
import {
  actionTokenFor,
  startTestStack,
  test_limits,
  test_timings,
  test_webhook_settings,
  type TestStack,
} from './stack';
import { uniqueName } from './temporal';

const out = process.env.HISTORY_OUT ?? '';
const tag = process.env.HISTORY_TAG ?? 'current';
const withFx = process.env.HISTORY_FX === '1';

const ops = (operator: string) => ({ as: operator, role: 'ops' as const });

describe('record workflow histories', { skip: out === '' ? 'set HISTORY_OUT' : false }, () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      timings: { ...test_timings, reversalWindowMs: 3_000, reviewTimeoutMs: 60_000 },
      limits: { ...test_limits, reviewThresholdMinor: 10_000n, fourEyesThresholdMinor: 50_000n },
    });
    await mkdir(out, { recursive: true });
  });
  after(async () => stack.stop());

  async function user(shard: number, usd: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'rec');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (usd > 0) assert.equal((await stack.api.deposit(userId, usd)).body.status, 'COMPLETED');
    return userId;
  }

  async function save(shape: string, transferId: string): Promise<void> {
    await stack.client.workflow.getHandle(transferId).result();
    await saveHistory(shape, transferId);
  }

  it('records one history of each shape', async () => {
    const alice = await user(0, 100_000);
    const bob = await user(1, 0);
    const shapes = historyShapes(stack, alice, bob, user);
    if (withFx) {
      await stack.api.call('PUT', '/v1/ops/fx/rates/USD/EUR', { ...ops('ops_rec'), body: { rate: '0.9215' } });
      shapes.push(...fxShapes(stack, alice, bob));
    }
    const started = await Promise.all(shapes.map(async ([shape, run]) => [shape, await run()] as const));
    await Promise.all(started.map(([shape, id]) => save(shape, id)));
  });
});

describe('record a webhook delivery history', { skip: out === '' ? 'set HISTORY_OUT' : false }, () => {
  let stack: TestStack;
  let receiver: Server;
  const answers: number[] = [];
  before(async () => {
    // Two failures, then 204s: the delivery retries on its durable timers before it delivers.
    receiver = createServer((request, response) => {
      answers.push(answers.length < 2 ? 500 : 204);
      request.resume().on('end', () => response.writeHead(answers.at(-1)!).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack = await startTestStack({ webhooks: { settings: test_webhook_settings, drainRunMs: 5_000 } });
  });
  after(async () => {
    await stack.stop();
    receiver.closeAllConnections();
    receiver.close();
  });

  it('records a delivery that retried, then delivered two events (the run is left waiting, as a live one is)', async () => {
    const user = uniqueName('rec_wh');
    assert.equal((await stack.api.createUser(user)).status, 201);
    const registered = await stack.api.call('POST', '/v1/webhooks/endpoints', {
      ...ops('ops_rec'),
      body: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
        event_types: ['wallet.credited'],
        wallets: [user],
      },
    });
    assert.equal(registered.status, 201);
    await stack.api.deposit(user, 10);
    await until(() => answers.length >= 3);
    await stack.api.deposit(user, 20);
    await until(() => answers.length >= 4);
    // The last workflow task completes after the delivery it ran.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await saveHistory('webhook-retried', `${webhookTaskQueueOf(stack.taskQueue)}-${registered.body.endpoint_id}`);
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    assert.ok(waited < 30_000, 'timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A workflow's history as the CLI writes it: the format replay reads (historyFromJSON), as Temporal documents it. */
async function saveHistory(shape: string, workflowId: string): Promise<void> {
  const { stdout } = await promisify(execFile)(
    path.resolve('.tools/bin/temporal'),
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      '--address',
      process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(path.join(out, `${tag}--${shape}.json`), stdout);
}

/** A shape's name (the fixture file's suffix) and how to start a transfer of that shape, which returns its id. */
type Shape = [string, () => Promise<string>];

/** An ops action on a transfer over HTTP, which must be accepted. */
async function opsAction(stack: TestStack, transferId: string, action: 'reverse' | 'approve'): Promise<void> {
  const answer = await stack.api.call('POST', `/v1/ops/transfers/${transferId}/${action}`, {
    ...ops('ops_rec'),
    body: { reason: 'fixture' },
  });
  assert.equal(answer.status, 200);
}

/** An ops action sent as a signal (as the Web UI and the CLI send it), with its action token. */
async function opsSignal(
  stack: TestStack,
  transferId: string,
  action: 'reverse' | 'reject' | 'approve',
): Promise<void> {
  const token = await actionTokenFor({ operator: 'ops_rec', action, transferId });
  await stack.client.workflow.getHandle(transferId).signal(action, { token, reason: 'fixture' });
}

/** One transfer of each shape the workflow takes in one currency. */
function historyShapes(
  stack: TestStack,
  alice: string,
  bob: string,
  user: (shard: number, usd: number) => Promise<string>,
): Shape[] {
  return [
    ['completed-transfer', async () => (await stack.api.transfer(alice, bob, 1_000)).body.transfer_id],
    ['refused-debit', async () => (await stack.api.transfer(bob, alice, 1_000_000)).body.transfer_id],
    ['deposit', async () => (await stack.api.deposit(bob, 500)).body.transfer_id],
    ['batch', () => batchOf(stack, alice, [bob, bob], user)],
    [
      'withdrawal',
      async () =>
        (
          await stack.api.call('POST', `/v1/wallet/${alice}/withdrawals?wait=30`, {
            as: alice,
            body: { amount: 300, currency: 'USD', idempotency_key: uniqueName('w') },
          })
        ).body.transfer_id,
    ],
    [
      'refunded-credit',
      async () => {
        const frozen = await user(2, 0);
        await stack.api.call('POST', `/v1/ops/users/${frozen}/freeze`, { ...ops('ops_rec'), body: {} });
        return (await stack.api.transfer(alice, frozen, 700)).body.transfer_id;
      },
    ],
    [
      'reversed-by-update',
      async () => {
        const id = (await stack.api.transfer(alice, bob, 400)).body.transfer_id;
        await opsAction(stack, id, 'reverse');
        return id;
      },
    ],
    [
      'reversed-by-signal',
      async () => {
        const id = (await stack.api.transfer(alice, bob, 450)).body.transfer_id;
        await opsSignal(stack, id, 'reverse');
        return id;
      },
    ],
    [
      'review-approved',
      async () => {
        const id = (await stack.api.transfer(alice, bob, 20_000, uniqueName('big'), 0)).body.transfer_id;
        await opsAction(stack, id, 'approve');
        return id;
      },
    ],
    ...refusalShapes(stack, alice, bob),
    [
      'review-rejected-by-signal',
      async () => {
        const id = (await stack.api.transfer(alice, bob, 20_000, uniqueName('big'), 0)).body.transfer_id;
        await opsSignal(stack, id, 'reject');
        return id;
      },
    ],
  ];
}

/** Operators' requests refused before anything moved (action tokens): a typed operator, a token for another action. */
function refusalShapes(stack: TestStack, alice: string, bob: string): Shape[] {
  return [
    [
      'review-refused-then-approved',
      async () => {
        // Refused before anything moves: a typed operator, and a token for another action; then approved.
        const id = (await stack.api.transfer(alice, bob, 20_000, uniqueName('big'), 0)).body.transfer_id;
        const handle = stack.client.workflow.getHandle(id);
        await handle.signal('approve', { operator: 'ops_rec', reason: 'typed' });
        const reverse = await actionTokenFor({ operator: 'ops_rec', action: 'reverse', transferId: id });
        await handle.signal('approve', { token: reverse, reason: 'wrong action' });
        await opsSignal(stack, id, 'approve');
        return id;
      },
    ],
  ];
}

/** Cross-currency transfers (HISTORY_FX=1): one completed, one reversed. */
function fxShapes(stack: TestStack, alice: string, bob: string): Shape[] {
  const converting = async () =>
    (await stack.api.transfer(alice, bob, 1_000, uniqueName('fx'), 30, { target_currency: 'EUR' })).body.transfer_id;
  return [
    ['converted-transfer', converting],
    [
      'converted-reversed',
      async () => {
        const id = await converting();
        await opsAction(stack, id, 'reverse');
        return id;
      },
    ],
  ];
}

/** A batch of three items from alice (to bob and a new user); returns the batch id, which is its workflow id. */
async function batchOf(
  stack: TestStack,
  alice: string,
  recipients: string[],
  user: (shard: number, usd: number) => Promise<string>,
): Promise<string> {
  const carol = await user(3, 0);
  const items = [...recipients, carol].map((to, index) => ({
    to_user_id: to,
    amount: 100 + index,
    currency: 'USD',
    idempotency_key: uniqueName(`item${index}`),
  }));
  const accepted = await stack.api.call('POST', '/v1/wallet/transfer-batches', {
    as: alice,
    body: { from_user_id: alice, idempotency_key: uniqueName('batch'), items },
  });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return accepted.body.batch_id as string;
}
