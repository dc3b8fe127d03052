import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createWebhookActivities } from '../activities/webhooks';
import { walletEventsAfter } from '../ledger/wallet-events';
import { drainCursorOf } from '../ledger/webhooks';
import { enqueueWebhookEvents, webhookTaskQueueOf } from '../temporal-client/webhook-deliveries';
import { webhookDeliveryWorkflow } from '../workflows/webhooks';
import { appOver, startTestStack, test_webhook_settings, tokenFor, type TestStack } from './support/stack';
import { mockActivityRunner, test_payload_keys, uniqueName } from './support/temporal';

/** The suite's: retries after 250, 500, 1000, 1000 ms ...; disabled once 5 s of failing is spent; 1 s per attempt. */
const settings = test_webhook_settings;

interface Arrival {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  atMs: number;
}

/** What a receiver path answers: a status, or `slow` (never answers in time), `redirect`. */
type Behaviour = (arrival: Arrival, count: number) => number | 'slow' | 'redirect';

/** One loopback server for every endpoint of the file: each path records what arrives and answers per its behaviour. */
class Receiver {
  readonly arrivals: Arrival[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  server!: Server;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const arrival = {
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          atMs: Date.now(),
        };
        this.arrivals.push(arrival);
        const count = this.arrivals.filter((other) => other.path === arrival.path).length;
        const answer = (this.behaviours.get(arrival.path) ?? (() => 204))(arrival, count);
        if (answer === 'slow') return void setTimeout(() => response.writeHead(204).end(), 5_000).unref();
        if (answer === 'redirect') return void response.writeHead(302, { location: '/elsewhere' }).end();
        // A garbage body with every failure: the wallet reads a few KiB of it and no more.
        response.writeHead(answer).end(answer >= 300 ? 'x'.repeat(100_000) : undefined);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${(this.server.address() as AddressInfo).port}${path}`;
  }

  at(path: string): Arrival[] {
    return this.arrivals.filter((arrival) => arrival.path === path);
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ops = { as: 'ops_console', role: 'ops' as const };
const all_money_types = ['wallet.credited', 'wallet.debited', 'transfer.created', 'transfer.completed'];

describe('webhooks', () => {
  let stack: TestStack;
  const receiver = new Receiver();
  let alice: string;
  let bob: string;

  before(async () => {
    await receiver.start();
    stack = await startTestStack({ webhooks: { settings, drainRunMs: 5_000 } });
    alice = uniqueName('wh_alice');
    bob = uniqueName('wh_bob');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
  });
  after(async () => {
    await stack?.stop();
    receiver.server.closeAllConnections();
    receiver.server.close();
  });

  async function register(path: string, body: object, as: object = ops) {
    const answer = await stack.api.call('POST', '/v1/webhooks/endpoints', {
      ...as,
      body: { url: receiver.url(path), ...body },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer.body as { endpoint_id: string; secret: string };
  }

  async function eventsOf(userId: string, types: string[]) {
    const events = await walletEventsAfter(stack.shards.pool(stack.shards.shardOf(userId)), {
      userId,
      afterSequence: 0n,
      limit: 500,
    });
    return events.filter((event) => types.includes(event.type));
  }

  function headersOf(arrival: Arrival): Record<string, string> {
    return {
      'webhook-id': String(arrival.headers['webhook-id']),
      'webhook-timestamp': String(arrival.headers['webhook-timestamp']),
      'webhook-signature': String(arrival.headers['webhook-signature']),
    };
  }

  it('moves its cursor over events while no endpoint is active, and hands an endpoint made later only what follows', async () => {
    const early = uniqueName('wh_early');
    await stack.api.createUser(early);
    assert.equal((await stack.api.deposit(early, 70)).body.status, 'COMPLETED');
    const earlier = await eventsOf(early, all_money_types);
    assert.ok(earlier.length >= 2, `${early} has ${earlier.length} events`);
    const pool = stack.shards.pool(stack.shards.shardOf(early));
    const last = earlier.at(-1)!.cursor;
    await until('the drain past the early events', async () => {
      const cursor = await drainCursorOf(pool, 'webhooks');
      return cursor && (cursor.xid > last.xid || (cursor.xid === last.xid && cursor.position >= last.position));
    });
    await register('/early', { event_types: all_money_types, wallets: [early] });
    assert.equal((await stack.api.deposit(early, 30)).body.status, 'COMPLETED');
    const later = (await eventsOf(early, all_money_types)).slice(earlier.length);
    assert.ok(later.length >= 2, `${early} has ${later.length} new events`);
    await until('the new events at /early', () => receiver.at('/early').length >= later.length);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.deepEqual(
      receiver.at('/early').map((arrival) => arrival.headers['webhook-id']),
      later.map((event) => event.eventId),
    );
  });

  let main: { endpoint_id: string; secret: string };

  it('delivers each subscribed event signed (the library verifies it), in order per wallet, and logs each attempt', async () => {
    main = await register('/main', { event_types: all_money_types, wallets: [alice] });
    assert.match(main.secret, /^whsec_/);
    assert.equal((await stack.api.deposit(alice, 1_000)).body.status, 'COMPLETED');
    for (let index = 0; index < 3; index++)
      assert.equal((await stack.api.transfer(alice, bob, 100)).body.status, 'COMPLETED');
    const expected = await eventsOf(alice, all_money_types);
    assert.ok(expected.length >= 10, `alice has ${expected.length} events`);
    await until('every event at /main', () => receiver.at('/main').length >= expected.length);
    const arrived = receiver.at('/main');
    const verifier = new Webhook(main.secret);
    for (const arrival of arrived) verifier.verify(arrival.body, headersOf(arrival));
    assert.deepEqual(
      arrived.map((arrival) => arrival.headers['webhook-id']),
      expected.map((event) => event.eventId),
    );
    assert.deepEqual(
      arrived.map((arrival) => arrival.body),
      expected.map((event) => event.json),
    );
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(arrived[0]!.body, headersOf(arrived[0]!)),
    );

    const first = await stack.api.call('GET', `/v1/webhooks/endpoints/${main.endpoint_id}/deliveries?limit=2`, ops);
    assert.equal(first.status, 200);
    assert.equal(first.body.deliveries.length, 2);
    assert.equal(first.body.deliveries[0].status_code, 204);
    assert.equal(first.body.deliveries[0].succeeded, true);
    const next = await stack.api.call(
      'GET',
      `/v1/webhooks/endpoints/${main.endpoint_id}/deliveries?limit=100&cursor=${first.body.next_cursor}`,
      ops,
    );
    assert.equal(first.body.deliveries.length + next.body.deliveries.length, expected.length);
    assert.equal(next.body.next_cursor, null);
  });

  it('lets a customer register for its own wallet only, and hides endpoints from other customers', async () => {
    const own = await register('/own', { event_types: ['wallet.frozen'], wallets: [alice] }, { as: alice });
    const foreign = await stack.api.call('POST', '/v1/webhooks/endpoints', {
      as: alice,
      body: { url: receiver.url('/x'), event_types: ['wallet.frozen'], wallets: [bob] },
    });
    assert.equal(foreign.status, 403);
    const everything = await stack.api.call('POST', '/v1/webhooks/endpoints', {
      as: alice,
      body: { url: receiver.url('/x'), event_types: ['wallet.frozen'], all: true },
    });
    assert.equal(everything.status, 403);
    const listed = await stack.api.call('GET', '/v1/webhooks/endpoints', { as: alice });
    assert.deepEqual(
      listed.body.endpoints.map((endpoint: { endpoint_id: string }) => endpoint.endpoint_id),
      [own.endpoint_id],
    );
    assert.equal((await stack.api.call('GET', `/v1/webhooks/endpoints/${own.endpoint_id}`, { as: bob })).status, 404);
    assert.equal(
      (await stack.api.call('DELETE', `/v1/webhooks/endpoints/${own.endpoint_id}`, { as: alice })).status,
      204,
    );
    assert.equal((await stack.api.call('GET', `/v1/webhooks/endpoints/${own.endpoint_id}`, { as: alice })).status, 404);
  });

  it('retries a failing endpoint on the configured exponential schedule with durable timers', async () => {
    const carol = uniqueName('wh_carol');
    await stack.api.createUser(carol);
    receiver.behaviours.set('/flaky', (_arrival, count) => (count <= 2 ? 500 : 204));
    const flaky = await register('/flaky', { event_types: ['wallet.credited'], wallets: [carol] });
    await stack.api.deposit(carol, 50);
    await until('the third attempt', () => receiver.at('/flaky').length >= 3);
    const gaps = receiver
      .at('/flaky')
      .slice(1, 3)
      .map((arrival, index) => arrival.atMs - receiver.at('/flaky')[index]!.atMs);
    // 250 then 500 ms (a timer fires no earlier; a loaded machine makes it later).
    assert.ok(gaps[0]! >= 240 && gaps[1]! >= 490, `gaps ${gaps.join(', ')}`);
    const log = await until('three attempts logged', async () => {
      const page = await stack.api.call('GET', `/v1/webhooks/endpoints/${flaky.endpoint_id}/deliveries`, ops);
      return page.body.deliveries.length >= 3 ? page.body.deliveries : undefined;
    });
    assert.deepEqual(
      log.map((delivery: { attempt: number; status_code: number }) => [delivery.attempt, delivery.status_code]),
      [
        [1, 500],
        [2, 500],
        [3, 204],
      ],
    );
  });

  it('disables an endpoint that fails for its whole budget (slow, redirect, 5xx), without holding up another', async () => {
    const dave = uniqueName('wh_dave');
    await stack.api.createUser(dave);
    let slow = true;
    receiver.behaviours.set('/dead', (_arrival, count) =>
      count % 3 === 1 ? 'slow' : count % 3 === 2 ? 'redirect' : 503,
    );
    receiver.behaviours.set('/alive', () => 204);
    const dead = await register('/dead', { event_types: ['wallet.credited'], wallets: [dave] });
    await register('/alive', { event_types: ['wallet.credited'], wallets: [dave] });
    await stack.api.deposit(dave, 10);
    await stack.api.deposit(dave, 20);
    await until('both events at the healthy endpoint', () => receiver.at('/alive').length >= 2);
    const meanwhile = await stack.api.call('GET', `/v1/webhooks/endpoints/${dead.endpoint_id}`, ops);
    assert.equal(meanwhile.body.status, 'active', 'the healthy endpoint had both while the dead one still failed');
    const disabled = await until('the dead endpoint disabled', async () => {
      const got = await stack.api.call('GET', `/v1/webhooks/endpoints/${dead.endpoint_id}`, ops);
      return got.body.status === 'disabled' ? got.body : undefined;
    });
    slow = false;
    assert.equal(disabled.disabled_reason, 'retry_budget_exhausted');
    const log = await stack.api.call('GET', `/v1/webhooks/endpoints/${dead.endpoint_id}/deliveries`, ops);
    const errors = log.body.deliveries.map(
      (delivery: { status_code: number | null; error: string }) => delivery.status_code ?? delivery.error,
    );
    assert.ok(errors.includes(302) && errors.includes(503), JSON.stringify(errors));
    assert.ok(
      errors.some((error: unknown) => typeof error === 'string'),
      'the slow answer timed out',
    );
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    assert.match(metrics, /wallet_webhook_endpoints_disabled_total [1-9]/);
    // Enabled again and replayed, it gets what it missed.
    receiver.behaviours.set('/dead', () => (slow ? 503 : 204));
    assert.equal(
      (await stack.api.call('POST', `/v1/webhooks/endpoints/${dead.endpoint_id}/enable`, ops)).body.status,
      'active',
    );
    const replayed = await stack.api.call('POST', `/v1/webhooks/endpoints/${dead.endpoint_id}/replay`, {
      ...ops,
      body: { user_id: dave, from_sequence: 1 },
    });
    assert.equal(replayed.status, 202);
    assert.equal(replayed.body.events, 2);
    await until('the replay', async () => {
      const page = await stack.api.call('GET', `/v1/webhooks/endpoints/${dead.endpoint_id}/deliveries?limit=100`, ops);
      return (
        page.body.deliveries.filter(
          (delivery: { replay: boolean; succeeded: boolean }) => delivery.replay && delivery.succeeded,
        ).length === 2
      );
    });
  });

  /** A wallet with `deposits` deposits, and an endpoint for it that the dispatcher never feeds (it hears of freezes only). */
  async function quietEndpoint(path: string, deposits: number) {
    const user = uniqueName('wh_quiet');
    await stack.api.createUser(user);
    for (let index = 0; index < deposits; index++) await stack.api.deposit(user, 10 + index);
    const endpoint = await register(path, { event_types: ['wallet.frozen'], wallets: [user] });
    const refs = (await eventsOf(user, all_money_types)).map((event) => ({
      userId: user,
      sequence: String(event.sequence),
    }));
    return { user, endpoint, refs };
  }

  async function endpointDisabled(endpointId: string) {
    return until('the endpoint disabled', async () => {
      const got = await stack.api.call('GET', `/v1/webhooks/endpoints/${endpointId}`, ops);
      return got.body.status === 'disabled' ? got.body : undefined;
    });
  }

  it('disables an endpoint whose backlog passes WEBHOOK_BACKLOG_MAX while it waits between attempts', async () => {
    receiver.behaviours.set('/backlog', () => 503);
    const { endpoint, refs } = await quietEndpoint('/backlog', 3);
    assert.ok(refs.length >= 6, `${refs.length} events`);
    // The bound and a minute's wait between attempts, as the delivery workflow is started with them.
    const starter = {
      client: stack.client,
      taskQueue: stack.taskQueue,
      schedule: { firstMs: 60_000, maxMs: 60_000, budgetMs: 600_000 },
      backlogMax: 4,
    };
    await enqueueWebhookEvents(starter, endpoint.endpoint_id, refs.slice(0, 3), false);
    await until('the first attempt failed', () => receiver.at('/backlog').length >= 1);
    await enqueueWebhookEvents(starter, endpoint.endpoint_id, refs.slice(3, 6), false);
    // Well inside the minute's wait: the bound ends it.
    const disabled = await endpointDisabled(endpoint.endpoint_id);
    assert.equal(disabled.disabled_reason, 'backlog_exceeded');
    assert.equal(receiver.at('/backlog').length, 1, 'no attempt after the first');
  });

  it('carries the retries of the head over a continue-as-new: its attempt number, its time and its budget', async () => {
    receiver.behaviours.set('/resumed', () => 204);
    receiver.behaviours.set('/spent', () => 503);
    const resumed = await quietEndpoint('/resumed', 1);
    const spent = await quietEndpoint('/spent', 1);
    const start = (endpointId: string, ref: { userId: string; sequence: string }, firstFailureMs: number) =>
      stack.client.workflow.start(webhookDeliveryWorkflow, {
        workflowId: `${webhookTaskQueueOf(stack.taskQueue)}-${endpointId}`,
        taskQueue: webhookTaskQueueOf(stack.taskQueue),
        args: [
          {
            endpointId,
            schedule: settings.schedule,
            backlogMax: 10,
            queue: [{ ...ref, replay: false }],
            retry: { nextAttempt: 4, nextAttemptAtMs: Date.now() + 1_000, firstFailureMs },
          },
        ],
      });
    const startedMs = Date.now();
    await start(resumed.endpoint.endpoint_id, resumed.refs[0]!, Date.now() - 1_000);
    await until('the resumed attempt', () => receiver.at('/resumed').length >= 1);
    assert.ok(receiver.at('/resumed')[0]!.atMs - startedMs >= 900, 'it waited for the time of the attempt');
    const log = await stack.api.call('GET', `/v1/webhooks/endpoints/${resumed.endpoint.endpoint_id}/deliveries`, ops);
    assert.deepEqual(
      log.body.deliveries.map((delivery: { attempt: number; succeeded: boolean }) => [
        delivery.attempt,
        delivery.succeeded,
      ]),
      [[4, true]],
    );
    // Failing since longer than the budget (5 s): the carried-over attempt fails and the endpoint is disabled at once.
    await start(spent.endpoint.endpoint_id, spent.refs[0]!, Date.now() - 60_000);
    const disabled = await endpointDisabled(spent.endpoint.endpoint_id);
    assert.equal(disabled.disabled_reason, 'retry_budget_exhausted');
    assert.equal(receiver.at('/spent').length, 1);
  });

  it('replays from a sequence number or a time, in order, and refuses ranges out of bounds', async () => {
    const before = receiver.at('/main').length;
    const expected = await eventsOf(alice, all_money_types);
    const fromSequence = Number(expected[2]!.sequence);
    const replay = (body: object, as: object = ops) =>
      stack.api.call('POST', `/v1/webhooks/endpoints/${main.endpoint_id}/replay`, { ...as, body });
    const bySequence = await replay({ user_id: alice, from_sequence: fromSequence });
    assert.equal(bySequence.status, 202);
    const resent = expected.filter((event) => event.sequence >= BigInt(fromSequence));
    assert.equal(bySequence.body.events, resent.length);
    await until('the replay', () => receiver.at('/main').length >= before + resent.length);
    assert.deepEqual(
      receiver
        .at('/main')
        .slice(before)
        .map((arrival) => arrival.headers['webhook-id']),
      resent.map((event) => event.eventId),
    );
    const byTime = await replay({ from_time: new Date(Date.now() - 3_600_000).toISOString() });
    assert.equal(byTime.status, 202);
    assert.equal(byTime.body.events, expected.length);

    const last = Number(expected.at(-1)!.sequence);
    const refused = [
      [{ user_id: alice, from_sequence: last + 50 }, 422, 'replay_out_of_bounds'],
      [{ user_id: bob, from_sequence: 1 }, 422, 'replay_out_of_bounds'],
      [{ from_time: new Date(Date.now() + 3_600_000).toISOString() }, 422, 'replay_out_of_bounds'],
      [{ user_id: alice }, 400, 'invalid_request'],
    ] as const;
    for (const [body, status, code] of refused) {
      const answer = await replay(body);
      assert.equal(answer.status, status, JSON.stringify([body, answer.body]));
      assert.equal(answer.body.error.code, code);
    }
  });

  it('rotates a secret: during the grace period each delivery is signed with both', async () => {
    const rotated = await stack.api.call('POST', `/v1/webhooks/endpoints/${main.endpoint_id}/rotate-secret`, ops);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, main.secret);
    assert.ok(rotated.body.previous_secret_expires_at);
    const before = receiver.at('/main').length;
    await stack.api.deposit(alice, 5);
    await until('the next delivery', () => receiver.at('/main').length > before);
    const arrival = receiver.at('/main')[before]!;
    assert.equal(headersOf(arrival)['webhook-signature']!.split(' ').length, 2);
    new Webhook(main.secret).verify(arrival.body, headersOf(arrival));
    new Webhook(rotated.body.secret).verify(arrival.body, headersOf(arrival));
  });

  it('refuses bad URLs, private addresses (SSRF) and unknown event types with documented 4xx', async () => {
    // The same API with the production default: WEBHOOK_ALLOW_PRIVATE unset.
    const app = appOver(stack, { webhooks: { ...settings, allowPrivate: false, sealingKeys: test_payload_keys } });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const authorization = `Bearer ${await tokenFor('ops_console', 'ops')}`;
    const post = async (body: object) => {
      const response = await fetch(`${base}/v1/webhooks/endpoints`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ event_types: ['wallet.credited'], all: true, ...body }),
      });
      return { status: response.status, code: ((await response.json()) as { error?: { code: string } }).error?.code };
    };
    try {
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://localhost/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://10.1.2.3/',
        'http://192.168.1.1/',
        'http://[::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://0.0.0.0/',
      ])
        assert.deepEqual(await post({ url }), { status: 422, code: 'webhook_url_refused' }, url);
      for (const url of ['ftp://example.com/', 'not a url', 'http://user:pw@example.com/', 'file:///etc/passwd'])
        assert.deepEqual(await post({ url }), { status: 422, code: 'webhook_url_invalid' }, url);
      assert.deepEqual(await post({ url: 'http://example.com/', event_types: ['wallet.exploded'] }), {
        status: 422,
        code: 'unknown_event_type',
      });
    } finally {
      server.close();
    }
  });

  it('checks the address again at connect time: a name that resolves to loopback is refused when sending', async () => {
    receiver.behaviours.set('/guarded', () => 204);
    // Registered while private addresses are allowed (as if its name resolved elsewhere then).
    const guarded = await register('/guarded', { event_types: ['wallet.frozen'], wallets: [alice] });
    const strict = createWebhookActivities({
      shards: stack.shards,
      logger: pino({ level: 'silent' }),
      sealingKeys: test_payload_keys,
      enqueue: async () => undefined,
      events: {
        attempt: () => undefined,
        disabled: () => undefined,
        drainFailed: () => undefined,
        disableFailed: () => undefined,
      },
      allowPrivate: false,
      requestTimeoutMs: 1_000,
    });
    const run = mockActivityRunner();
    for (const url of [receiver.url('/guarded', 'localhost'), receiver.url('/guarded')]) {
      await stack.shards
        .pool(0)
        .query(`update webhook_endpoints set url = $2 where endpoint_id = $1`, [guarded.endpoint_id, url]);
      const result = await run(strict.deliverWebhook, {
        endpointId: guarded.endpoint_id,
        ref: { userId: alice, sequence: '1' },
        attempt: 1,
        replay: true,
      });
      assert.equal(result.outcome, 'failed', url);
    }
    assert.equal(receiver.at('/guarded').length, 0);
    const log = await stack.api.call('GET', `/v1/webhooks/endpoints/${guarded.endpoint_id}/deliveries`, ops);
    for (const delivery of log.body.deliveries) assert.match(delivery.error, /refused address/);
  });
});
