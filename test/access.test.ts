import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SignJWT } from 'jose';
import { createApp } from '../api/app';
import { signToken, type Role } from '../api/auth';
import { error_codes } from '../api/errors';
import { transferIdFor } from '../domain/transfer-ids';
import type { TransferKind } from '../domain/transfers';
import { driftedAccounts, snapshotShards, userOnShard } from './support/ledger';
import { documentedAuthenticatedRoutes } from './support/routes';
import {
  appOver,
  startTestStack,
  test_auth_secret,
  test_limits,
  test_timings,
  tokenFor,
  type ApiAnswer,
  type TestStack,
} from './support/stack';
import { uniqueName } from './support/temporal';

/**
 * Access control on every id, through every endpoint: a customer who is not a party (carol), and a
 * party (alice) reaching for the other party's (bob's) objects, name them in the path, the query
 * and the body of every authenticated route. Each attempt gets its documented error, others'
 * objects answer exactly as missing ones do, and nothing changes: not a row on any shard, not a
 * workflow, not a review's approvals. The routes come from the OpenAPI document and from Express
 * itself, so a new route without an access case fails this file.
 */

/** Far above what this file sends: the per-caller limit is not what is under test here. */
const customer_requests_per_window = 100_000;
const review_threshold_minor = 50_000n;
/** Long enough that no review or reversal window closes while the file runs. */
const ops_window_ms = 600_000;
const record_wait_tries_max = 200;

/** Routes served without a token (api/routes/system.ts); every other route must have access cases. */
const public_routes = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json', 'GET /codec/login'];

/** The FX routes, listed here whether or not openapi.ts documents them yet. */
const fx_routes = [
  'POST /v1/wallet/fx/quotes',
  'PUT /v1/ops/fx/rates/{base}/{quote}',
  'GET /v1/ops/fx/rates',
  'GET /v1/ops/fx/rates/{base}/{quote}',
];

interface AccessCase {
  /** The route as documented: `METHOD /path/{param}`. */
  route: string;
  caller: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  code: string;
  why: string;
}

/** A one-item batch from `from` to `to`; `extra` overrides the batch's fields. */
function batchBody(from: string, to: string, extra: object = {}) {
  return {
    from_user_id: from,
    idempotency_key: uniqueName('attack-batch'),
    items: [{ to_user_id: to, amount: 10, currency: 'USD', idempotency_key: uniqueName('attack-item') }],
    ...extra,
  };
}

interface Transfer {
  transfer_id: string;
  status: string;
}

/** `PUT /v1/ops/users/{user_id}/limits/{currency}` as a regular expression over a concrete path (query left off). */
function routeMatcher(route: string): { method: string; pattern: RegExp } {
  const [method, path] = route.split(' ') as [string, string];
  const pattern = new RegExp(`^${path.replace(/\{[a-z_]+\}/g, '[^/?]+')}(\\?.*)?$`);
  return { method, pattern };
}

/** Express's `:param` and OpenAPI's `{param}` written one way. */
function documentedForm(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/:([a-z_]+)/g, '{$1}')}`;
}

/** Every route Express serves, walked from the app's router and the routers it mounts. */
function expressRoutes(app: ReturnType<typeof createApp>): string[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const found: string[] = [];
  const walk = (layers: Layer[]) => {
    for (const layer of layers) {
      if (layer.route)
        for (const method of Object.keys(layer.route.methods)) found.push(documentedForm(method, layer.route.path));
      if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(found)].sort();
}

type AddCase = (
  route: string,
  caller: string,
  path: string,
  body: unknown,
  status: number,
  code: string,
  why: string,
) => void;

/** carol reaching for alice's webhook endpoint and wallet: others' endpoints answer as missing ones do. */
function webhookCases(add: AddCase, aliceEndpoint: string, { alice, carol }: { alice: string; carol: string }) {
  const hook = { url: 'http://127.0.0.1:9/carol', event_types: ['wallet.credited'] };
  const endpoints = '/v1/webhooks/endpoints';
  add(
    `POST ${endpoints}`,
    carol,
    endpoints,
    { ...hook, wallets: [alice] },
    403,
    'forbidden',
    "carol hooking alice's wallet",
  );
  add(`POST ${endpoints}`, carol, endpoints, { ...hook, all: true }, 403, 'forbidden', 'carol hooking every wallet');
  add(
    `GET ${endpoints}`,
    carol,
    `${endpoints}?owner_id=${alice}`,
    undefined,
    403,
    'forbidden',
    "carol listing alice's",
  );
  const one = `${endpoints}/${aliceEndpoint}`;
  const missing = (route: string, method: string, path: string, body?: unknown) =>
    add(
      `${method} ${endpoints}/{endpoint_id}${route}`,
      carol,
      `${one}${path}`,
      body,
      404,
      'webhook_endpoint_not_found',
      `carol: ${method} alice's endpoint${route}`,
    );
  missing('', 'GET', '');
  missing('', 'DELETE', '');
  missing('/rotate-secret', 'POST', '/rotate-secret');
  missing('/enable', 'POST', '/enable');
  missing('/deliveries', 'GET', '/deliveries');
  missing('/replay', 'POST', '/replay', { user_id: alice, from_sequence: 1 });
}

describe('access control on every id, through every endpoint', () => {
  let stack: TestStack;
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.length > 0),
      );
      done();
    },
  });

  /** Every token string this file sends, valid or not: none may appear in a log line. */
  const tokensSent = new Set<string>();
  const tokens = new Map<string, Promise<string>>();
  const tokenOf = (userId: string, role: Role = 'customer'): Promise<string> => {
    const key = `${role}:${userId}`;
    if (!tokens.has(key))
      tokens.set(
        key,
        tokenFor(userId, role).then((token) => (tokensSent.add(token), token)),
      );
    return tokens.get(key)!;
  };
  const operator = 'ops_access_test';

  /** Every request of this file goes through here, with a token it minted itself (or none). */
  async function send(
    method: string,
    path: string,
    options: { caller?: string; role?: Role; token?: string; body?: unknown } = {},
  ): Promise<ApiAnswer> {
    const token = options.token ?? (options.caller ? await tokenOf(options.caller, options.role) : undefined);
    if (token !== undefined) tokensSent.add(token);
    return stack.api.call(method, path, {
      ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  }
  const asOps = (method: string, path: string, body?: unknown) =>
    send(method, path, { caller: operator, role: 'ops', ...(body !== undefined ? { body } : {}) });

  let alice: string;
  let bob: string;
  let carol: string;
  /** A valid user id that no user has. */
  let nobody: string;
  const ids = {
    aliceToBob: '',
    aliceToBobKey: uniqueName('alice-to-bob'),
    aliceHeld: '',
    aliceWithdrawal: '',
    aliceDeposit: '',
    bobDeposit: '',
    aliceFx: '',
    bobFx: '',
    aliceQuote: '',
    bobQuote: '',
    carolQuote: '',
    bobNewestEntry: '',
    aliceBatch: '',
    aliceBatchItem: '',
    aliceBatchKey: uniqueName('alice-batch'),
    missingBatch: `tb_${randomBytes(16).toString('hex')}`,
    missingTransfer: `tr_${randomBytes(16).toString('hex')}`,
    missingQuote: `q_${randomBytes(16).toString('hex')}`,
    aliceBankAccount: '',
    aliceEndpoint: '',
  };
  const quoted_amount_minor = 1_500;
  let before_attacks: Record<string, string[]>;
  /** The workflow state of transfers an attacker aims ops actions at (approvals live there until they decide). */
  const workflowStates = new Map<string, string>();

  async function transferRecord(transferId: string): Promise<Transfer> {
    return (await asOps('GET', `/v1/wallet/transfers/${transferId}`)).body as Transfer;
  }

  async function waitForStatus(transferId: string, status: string): Promise<void> {
    for (let tries = 0; tries < record_wait_tries_max; tries++) {
      if ((await transferRecord(transferId)).status === status) return;
      await sleep(100);
    }
    assert.fail(`${transferId} never reached ${status}`);
  }

  async function completed(answer: ApiAnswer): Promise<string> {
    assert.ok(answer.status === 200 || answer.status === 202, JSON.stringify(answer.body));
    const transferId = (answer.body as Transfer).transfer_id;
    await waitForStatus(transferId, 'COMPLETED');
    return transferId;
  }

  async function quote(userId: string, amount: number): Promise<string> {
    const answer = await send('POST', '/v1/wallet/fx/quotes', {
      caller: userId,
      body: { from_currency: 'USD', to_currency: 'EUR', amount },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer.body.quote_id as string;
  }

  const deposit = (userId: string, amount: number) =>
    asOps('POST', `/v1/wallet/${userId}/deposits?wait=30`, {
      amount,
      currency: 'USD',
      idempotency_key: uniqueName('dep'),
    });

  before(async () => {
    stack = await startTestStack({
      logStream,
      logLevel: 'debug',
      callerLimits: { customerRequestsPerWindow: customer_requests_per_window },
      limits: {
        ...test_limits,
        reviewThresholdMinor: review_threshold_minor,
        fourEyesThresholdMinor: review_threshold_minor * 10n,
      },
      timings: { ...test_timings, reversalWindowMs: ops_window_ms, reviewTimeoutMs: ops_window_ms },
      // The unused quotes must still be valid when their owner finally uses one, however slow the run.
      quoteTtlMs: ops_window_ms,
    });
    // alice and bob share a shard, so a quote lookup on alice's shard finds bob's quote row and
    // must refuse it by its owner; carol is on another shard.
    alice = userOnShard(stack.shards, 0, 'alice');
    bob = userOnShard(stack.shards, 0, 'bob');
    carol = userOnShard(stack.shards, 1, 'carol');
    nobody = uniqueName('nobody');
    for (const userId of [alice, bob])
      assert.equal((await asOps('POST', '/v1/wallet/users', { user_id: userId })).status, 201);
    // A customer creates its own user: the one POST /v1/wallet/users a customer may make.
    assert.equal((await send('POST', '/v1/wallet/users', { caller: carol, body: { user_id: carol } })).status, 201);
    for (const [base, quoted, rate] of [
      ['USD', 'EUR', '0.9'],
      ['EUR', 'USD', '1.1'],
    ] as const) {
      assert.equal(
        (await asOps('PUT', `/v1/ops/fx/rates/${base}/${quoted}`, { rate, reason: 'access test fixing' })).status,
        200,
      );
    }
    ids.aliceDeposit = await completed(await deposit(alice, 100_000));
    ids.bobDeposit = await completed(await deposit(bob, 50_000));
    await completed(await deposit(carol, 5_000));

    const transfer = (from: string, to: string, amount: number, key = uniqueName('k'), extra: object = {}, wait = 30) =>
      send('POST', `/v1/wallet/transfers?wait=${wait}`, {
        caller: from,
        body: { from_user_id: from, to_user_id: to, amount, currency: 'USD', idempotency_key: key, ...extra },
      });
    ids.aliceToBob = await completed(await transfer(alice, bob, 1_000, ids.aliceToBobKey));
    ids.aliceFx = await completed(
      await transfer(alice, bob, 2_000, uniqueName('fx'), {
        target_currency: 'EUR',
        quote_id: await quote(alice, 2_000),
      }),
    );
    ids.bobFx = await completed(
      await transfer(bob, alice, 3_000, uniqueName('fx'), {
        target_currency: 'EUR',
        quote_id: await quote(bob, 3_000),
      }),
    );
    ids.aliceWithdrawal = await completed(
      await send('POST', `/v1/wallet/${alice}/withdrawals?wait=30`, {
        caller: alice,
        body: { amount: 500, currency: 'USD', idempotency_key: uniqueName('wd') },
      }),
    );
    const batch = await send('POST', '/v1/wallet/transfer-batches', {
      caller: alice,
      body: batchBody(alice, bob, { idempotency_key: ids.aliceBatchKey }),
    });
    assert.equal(batch.status, 202, JSON.stringify(batch.body));
    ids.aliceBatch = batch.body.batch_id as string;
    const batchDone = await send('GET', `/v1/wallet/transfer-batches/${ids.aliceBatch}?wait=30`, { caller: alice });
    assert.equal(batchDone.body.status, 'COMPLETED', JSON.stringify(batchDone.body));
    ids.aliceBatchItem = batchDone.body.items[0].transfer_id as string;
    // The batch workflow records the batch COMPLETED just after its items are: before the snapshot.
    await stack.client.workflow.getHandle(ids.aliceBatch).result();
    const held = await transfer(alice, bob, Number(review_threshold_minor) + 1, uniqueName('held'), {}, 0);
    assert.ok(held.status === 200 || held.status === 202, JSON.stringify(held.body));
    ids.aliceHeld = (held.body as Transfer).transfer_id;
    await waitForStatus(ids.aliceHeld, 'PENDING_REVIEW');
    // Unused quotes of the same pair and amount: only the owner differs.
    ids.aliceQuote = await quote(alice, quoted_amount_minor);
    ids.bobQuote = await quote(bob, quoted_amount_minor);
    ids.carolQuote = await quote(carol, quoted_amount_minor);
    const bank = await send('POST', `/v1/wallet/${alice}/bank-accounts`, {
      caller: alice,
      body: {
        routing_number: '011000015',
        account_number: '000123456789',
        holder_name: 'Alice',
        account_type: 'checking',
      },
    });
    assert.equal(bank.status, 201, JSON.stringify(bank.body));
    ids.aliceBankAccount = bank.body.bank_account_id as string;
    const endpoint = await send('POST', '/v1/webhooks/endpoints', {
      caller: alice,
      body: { url: 'http://127.0.0.1:9/hook', event_types: ['wallet.credited'], wallets: [alice] },
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    ids.aliceEndpoint = endpoint.body.endpoint_id as string;
    const bobHistory = await asOps('GET', `/v1/wallet/${bob}/transactions`);
    ids.bobNewestEntry = bobHistory.body.entries[0].entry_id as string;

    for (const transferId of [ids.aliceToBob, ids.aliceHeld])
      workflowStates.set(transferId, JSON.stringify(await stack.client.workflow.getHandle(transferId).query('status')));
    before_attacks = await snapshotShards(stack.shards);
  });

  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  /** The attacks: customers naming objects that are not theirs. Built once the ids exist. */
  function accessCases(): AccessCase[] {
    const cases: AccessCase[] = [];
    const add: AddCase = (route, caller, path, body, status, code, why) =>
      void cases.push({
        route,
        caller,
        method: route.split(' ')[0]!,
        path,
        ...(body !== undefined ? { body } : {}),
        status,
        code,
        why,
      });
    const forbidden = (route: string, caller: string, path: string, body: unknown, why: string) =>
      add(route, caller, path, body, 403, 'forbidden', why);
    const movement = () => ({ amount: 100, currency: 'USD', idempotency_key: uniqueName('attack') });
    const transferBody = (from: string, to: string, extra: object = {}) => ({
      from_user_id: from,
      to_user_id: to,
      amount: 100,
      currency: 'USD',
      idempotency_key: uniqueName('attack'),
      ...extra,
    });

    add(
      'POST /v1/wallet/users',
      carol,
      '/v1/wallet/users',
      { user_id: bob },
      403,
      'forbidden',
      'creating an existing user of someone else: 403, not 409 (no probing)',
    );
    add(
      'POST /v1/wallet/users',
      carol,
      '/v1/wallet/users',
      { user_id: nobody },
      403,
      'forbidden',
      'creating a user that is not oneself',
    );
    add(
      'POST /v1/wallet/users',
      alice,
      '/v1/wallet/users',
      { user_id: bob },
      403,
      'forbidden',
      'a party creating the other party',
    );

    const transfers = 'POST /v1/wallet/transfers';
    forbidden(
      transfers,
      alice,
      '/v1/wallet/transfers',
      transferBody(bob, alice),
      "alice moving bob's money to herself",
    );
    forbidden(
      transfers,
      alice,
      '/v1/wallet/transfers?wait=5',
      transferBody(bob, carol),
      "alice moving bob's money to carol, waiting",
    );
    forbidden(
      transfers,
      alice,
      '/v1/wallet/transfers',
      transferBody(bob, bob, { target_currency: 'EUR' }),
      "alice converting bob's USD to EUR in bob's wallet",
    );
    forbidden(
      transfers,
      alice,
      '/v1/wallet/transfers',
      transferBody(bob, alice, { target_currency: 'EUR', quote_id: ids.bobQuote, amount: quoted_amount_minor }),
      "alice spending bob's quote from bob's wallet",
    );
    forbidden(transfers, carol, '/v1/wallet/transfers', transferBody(bob, carol), "carol moving bob's money");
    forbidden(
      transfers,
      carol,
      '/v1/wallet/transfers',
      transferBody(alice, carol, { idempotency_key: ids.aliceToBobKey }),
      "carol replaying alice's idempotency key from alice",
    );
    forbidden(
      transfers,
      carol,
      '/v1/wallet/transfers',
      transferBody(nobody, carol),
      'carol sending from a user that does not exist: 403, not 404 (no probing)',
    );
    const withQuote = (quoteId: string) =>
      transferBody(alice, bob, { amount: quoted_amount_minor, target_currency: 'EUR', quote_id: quoteId });
    add(
      transfers,
      alice,
      '/v1/wallet/transfers?wait=5',
      withQuote(ids.bobQuote),
      404,
      'quote_not_found',
      "alice using bob's quote (same shard, same pair and amount)",
    );
    add(
      transfers,
      alice,
      '/v1/wallet/transfers',
      withQuote(ids.carolQuote),
      404,
      'quote_not_found',
      "alice using carol's quote (another shard)",
    );
    add(
      transfers,
      alice,
      '/v1/wallet/transfers',
      withQuote(ids.missingQuote),
      404,
      'quote_not_found',
      'a quote that does not exist',
    );
    add(
      transfers,
      carol,
      '/v1/wallet/transfers',
      {
        ...transferBody(carol, bob, { amount: quoted_amount_minor, target_currency: 'EUR', quote_id: ids.aliceQuote }),
      },
      404,
      'quote_not_found',
      "carol using alice's quote",
    );
    add(
      transfers,
      bob,
      '/v1/wallet/transfers',
      {
        ...transferBody(bob, alice, { amount: quoted_amount_minor, target_currency: 'EUR', quote_id: ids.aliceQuote }),
      },
      404,
      'quote_not_found',
      "bob using alice's quote",
    );

    for (const [caller, target, why] of [
      [carol, carol, 'a customer depositing to itself'],
      [carol, bob, 'carol depositing to bob'],
      [alice, bob, 'alice depositing to bob'],
      [carol, nobody, 'carol depositing to nobody'],
    ] as const) {
      forbidden(
        'POST /v1/wallet/{user_id}/deposits',
        caller,
        `/v1/wallet/${target}/deposits?wait=5`,
        movement(),
        `${why}: deposits are ops only`,
      );
    }
    for (const [caller, target, why] of [
      [alice, bob, "alice withdrawing bob's money"],
      [carol, alice, "carol withdrawing alice's money"],
      [carol, bob, "carol withdrawing bob's money"],
      [carol, nobody, 'carol withdrawing from nobody: 403, not 404'],
    ] as const) {
      forbidden(
        'POST /v1/wallet/{user_id}/withdrawals',
        caller,
        `/v1/wallet/${target}/withdrawals?wait=5`,
        movement(),
        why,
      );
    }

    const batches = 'POST /v1/wallet/transfer-batches';
    forbidden(
      batches,
      alice,
      '/v1/wallet/transfer-batches',
      batchBody(bob, alice),
      "alice paying herself from bob's wallet",
    );
    forbidden(
      batches,
      carol,
      '/v1/wallet/transfer-batches',
      batchBody(alice, carol),
      "carol paying herself from alice's",
    );
    forbidden(
      batches,
      carol,
      '/v1/wallet/transfer-batches',
      batchBody(alice, bob, { idempotency_key: ids.aliceBatchKey }),
      "carol replaying alice's batch key from alice",
    );
    forbidden(
      batches,
      carol,
      '/v1/wallet/transfer-batches',
      batchBody(nobody, carol),
      'carol paying from a user that does not exist: 403, not 404 (no probing)',
    );
    const readBatch = 'GET /v1/wallet/transfer-batches/{batch_id}';
    for (const [caller, batchId, query, why] of [
      [carol, ids.aliceBatch, '', "carol reading alice's batch"],
      [carol, ids.aliceBatch, '?wait=2&limit=5', "carol waiting on alice's batch"],
      [bob, ids.aliceBatch, '', "bob, a recipient, reading alice's batch (he reads his transfer)"],
      [alice, ids.missingBatch, '', 'a batch id that does not exist'],
    ] as const) {
      add(readBatch, caller, `/v1/wallet/transfer-batches/${batchId}${query}`, undefined, 404, 'batch_not_found', why);
    }

    const readTransfer = 'GET /v1/wallet/transfers/{transfer_id}';
    const notFound = (caller: string, transferId: string, why: string, query = '') =>
      add(
        readTransfer,
        caller,
        `/v1/wallet/transfers/${transferId}${query}`,
        undefined,
        404,
        'transfer_not_found',
        why,
      );
    notFound(carol, ids.aliceToBob, 'carol reading alice→bob');
    notFound(carol, ids.aliceToBob, 'carol waiting on alice→bob', '?wait=2');
    notFound(carol, ids.aliceHeld, "carol reading alice's held transfer", '?wait=2');
    notFound(carol, ids.aliceWithdrawal, "carol reading alice's withdrawal");
    notFound(carol, ids.aliceDeposit, "carol reading alice's deposit");
    notFound(carol, ids.aliceFx, "carol reading alice's conversion to bob");
    notFound(carol, ids.bobFx, "carol reading bob's conversion to alice");
    notFound(bob, ids.aliceWithdrawal, "bob reading alice's withdrawal");
    notFound(bob, ids.aliceDeposit, "bob reading alice's deposit");
    notFound(alice, ids.bobDeposit, "alice reading bob's deposit");
    notFound(carol, ids.missingTransfer, 'a transfer id that does not exist');

    for (const [caller, target, query, why] of [
      [alice, bob, '', "alice reading bob's balance"],
      [alice, bob, '?at=2020-01-01T00:00:00Z', "alice reading bob's past balance"],
      [carol, alice, '', "carol reading alice's balance"],
      [carol, nobody, '', "carol reading nobody's balance: 403, not 404"],
    ] as const) {
      forbidden('GET /v1/wallet/{user_id}/balance', caller, `/v1/wallet/${target}/balance${query}`, undefined, why);
    }
    for (const [caller, target, why] of [
      [alice, bob, "alice following bob's events"],
      [carol, nobody, "carol following nobody's events: 403, not 404"],
    ] as const) {
      forbidden('GET /v1/wallet/{user_id}/events', caller, `/v1/wallet/${target}/events`, undefined, why);
    }
    for (const [caller, target, query, why] of [
      [alice, bob, '', "alice reading bob's history"],
      [
        alice,
        bob,
        `?currency=EUR&limit=100&cursor=${ids.bobNewestEntry}`,
        "alice paging bob's EUR history with bob's cursor",
      ],
      [carol, alice, '?from=2020-01-01T00:00:00Z', "carol reading alice's history"],
      [carol, nobody, '', "carol reading nobody's history: 403, not 404"],
    ] as const) {
      forbidden(
        'GET /v1/wallet/{user_id}/transactions',
        caller,
        `/v1/wallet/${target}/transactions${query}`,
        undefined,
        why,
      );
    }

    const bankAccount = {
      routing_number: '021000021',
      account_number: '00099887766',
      holder_name: 'Carol',
      account_type: 'savings',
    };
    const bankAccounts = 'POST /v1/wallet/{user_id}/bank-accounts';
    forbidden(
      bankAccounts,
      carol,
      `/v1/wallet/${alice}/bank-accounts`,
      bankAccount,
      "carol adding her account to alice's wallet",
    );
    forbidden(
      bankAccounts,
      carol,
      `/v1/wallet/${nobody}/bank-accounts`,
      bankAccount,
      'carol adding to nobody: 403, not 404',
    );
    const listBank = 'GET /v1/wallet/{user_id}/bank-accounts';
    forbidden(listBank, carol, `/v1/wallet/${alice}/bank-accounts`, undefined, "carol listing alice's bank accounts");
    forbidden(listBank, bob, `/v1/wallet/${nobody}/bank-accounts`, undefined, "bob listing nobody's: 403, not 404");
    const removeBank = 'DELETE /v1/wallet/{user_id}/bank-accounts/{bank_account_id}';
    forbidden(
      removeBank,
      carol,
      `/v1/wallet/${alice}/bank-accounts/${ids.aliceBankAccount}`,
      undefined,
      "carol removing alice's bank account",
    );
    add(
      removeBank,
      carol,
      `/v1/wallet/${carol}/bank-accounts/${ids.aliceBankAccount}`,
      undefined,
      404,
      'bank_account_not_found',
      "carol removing alice's bank account through her own wallet",
    );

    webhookCases(add, ids.aliceEndpoint, { alice, carol });

    const funding = 'GET /v1/wallet/{user_id}/funding-instructions';
    forbidden(
      funding,
      carol,
      `/v1/wallet/${alice}/funding-instructions`,
      undefined,
      "carol reading alice's account number",
    );
    forbidden(
      funding,
      bob,
      `/v1/wallet/${nobody}/funding-instructions`,
      undefined,
      "bob reading nobody's: 403, not 404",
    );
    add(
      'GET /v1/wallet/payins/{trace_number}',
      carol,
      '/v1/wallet/payins/091000019999999',
      undefined,
      404,
      'payin_not_found',
      'carol probing a trace number',
    );
    forbidden('GET /v1/ops/payins/files', alice, '/v1/ops/payins/files', undefined, "alice reading the bank's files");
    const payoutBody = {
      bank_account_id: ids.aliceBankAccount,
      amount: 100,
      currency: 'USD',
      idempotency_key: 'access-payout',
    };
    forbidden(
      'POST /v1/wallet/{user_id}/payouts',
      carol,
      `/v1/wallet/${alice}/payouts`,
      payoutBody,
      "carol paying out from alice's wallet to alice's account",
    );
    add(
      'POST /v1/wallet/{user_id}/payouts',
      carol,
      `/v1/wallet/${carol}/payouts`,
      payoutBody,
      404,
      'bank_account_not_found',
      "carol paying out to alice's bank account from her own wallet",
    );
    const missingPayout = `po_${'0'.repeat(32)}`;
    add(
      'GET /v1/wallet/payouts/{payout_id}',
      carol,
      `/v1/wallet/payouts/${missingPayout}`,
      undefined,
      404,
      'payout_not_found',
      'a payout id that does not exist',
    );
    for (const action of ['cancel', 'approve', 'reject'])
      forbidden(
        `POST /v1/ops/payouts/{payout_id}/${action}`,
        alice,
        `/v1/ops/payouts/${missingPayout}/${action}`,
        { reason: 'attack' },
        `alice: ${action} a payout as ops`,
      );
    forbidden('GET /v1/ops/payouts', alice, '/v1/ops/payouts?stuck=true', undefined, 'alice listing stuck payouts');

    for (const action of ['freeze', 'unfreeze'] as const) {
      const route = `POST /v1/ops/users/{user_id}/${action}`;
      forbidden(route, alice, `/v1/ops/users/${bob}/${action}`, { reason: 'attack' }, `alice: ${action} bob`);
      forbidden(route, carol, `/v1/ops/users/${carol}/${action}`, {}, `carol: ${action} herself`);
      forbidden(route, carol, `/v1/ops/users/${nobody}/${action}`, undefined, `carol: ${action} nobody, no body`);
    }
    forbidden(
      'POST /v1/ops/users/{user_id}/close',
      alice,
      `/v1/ops/users/${bob}/close`,
      { reason: 'attack' },
      'alice closing bob',
    );
    forbidden(
      'POST /v1/ops/users/{user_id}/close',
      carol,
      `/v1/ops/users/${carol}/close`,
      { reason: 'leaving' },
      'carol closing herself',
    );
    forbidden(
      'GET /v1/ops/users/{user_id}/limits/{currency}',
      alice,
      `/v1/ops/users/${bob}/limits/USD`,
      undefined,
      "alice reading bob's limits",
    );
    forbidden(
      'GET /v1/ops/users/{user_id}/limits/{currency}',
      carol,
      `/v1/ops/users/${carol}/limits/USD`,
      undefined,
      'carol reading her own limits (ops only)',
    );
    forbidden(
      'PUT /v1/ops/users/{user_id}/limits/{currency}',
      alice,
      `/v1/ops/users/${bob}/limits/USD`,
      { min_balance: 1_000_000, reason: 'attack' },
      "alice raising bob's floor",
    );
    forbidden(
      'PUT /v1/ops/users/{user_id}/limits/{currency}',
      carol,
      `/v1/ops/users/${carol}/limits/USD`,
      { min_balance: -1_000_000, daily_outgoing_max: 50_000_000, reason: 'overdraft please' },
      'carol granting herself an overdraft',
    );
    forbidden(
      'PUT /v1/ops/users/{user_id}/limits/{currency}',
      carol,
      `/v1/ops/users/${carol}/limits/USD`,
      { nonsense: true },
      'carol with an invalid body: 403 before validation',
    );

    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/reverse',
      alice,
      `/v1/ops/transfers/${ids.aliceToBob}/reverse`,
      { reason: 'I want it back', allow_negative: true },
      'alice reversing her own transfer',
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/reverse',
      carol,
      `/v1/ops/transfers/${ids.aliceFx}/reverse`,
      { reason: 'attack' },
      "carol reversing alice's conversion",
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/reverse',
      carol,
      `/v1/ops/transfers/${ids.missingTransfer}/reverse`,
      { reason: 'attack' },
      'carol reversing a missing transfer: 403, not 404',
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/action-tokens',
      alice,
      `/v1/ops/transfers/${ids.aliceHeld}/action-tokens`,
      { action: 'approve' },
      'alice: an action token to approve her own held transfer',
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/action-tokens',
      carol,
      `/v1/ops/transfers/${ids.missingTransfer}/action-tokens`,
      { action: 'reverse', allow_negative: true },
      'carol: an action token for a missing transfer: 403, not 404',
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/retry',
      alice,
      `/v1/ops/transfers/${ids.aliceToBob}/retry`,
      { reason: 'run my transfer again' },
      'alice retrying a step of her own transfer',
    );
    forbidden(
      'POST /v1/ops/transfers/{transfer_id}/retry',
      carol,
      `/v1/ops/transfers/${ids.missingTransfer}/retry`,
      { reason: 'attack' },
      'carol retrying a missing transfer: 403, not 404',
    );
    for (const decision of ['approve', 'reject'] as const) {
      const route = `POST /v1/ops/transfers/{transfer_id}/${decision}`;
      forbidden(
        route,
        alice,
        `/v1/ops/transfers/${ids.aliceHeld}/${decision}`,
        { reason: 'mine' },
        `alice: ${decision} her own held transfer`,
      );
      forbidden(
        route,
        bob,
        `/v1/ops/transfers/${ids.aliceHeld}/${decision}`,
        { reason: 'to me' },
        `bob: ${decision} the transfer held for him`,
      );
      forbidden(
        route,
        carol,
        `/v1/ops/transfers/${ids.aliceHeld}/${decision}`,
        {},
        `carol: ${decision} with an invalid body`,
      );
      forbidden(
        route,
        carol,
        `/v1/ops/transfers/${ids.aliceToBob}/${decision}`,
        { reason: 'x' },
        `carol: ${decision} a completed transfer: 403, not 409`,
      );
    }

    add(
      'POST /v1/wallet/fx/quotes',
      carol,
      '/v1/wallet/fx/quotes',
      { from_currency: 'USD', to_currency: 'EUR', amount: 100, user_id: bob },
      400,
      'invalid_request',
      'a quote cannot name its owner: always the caller',
    );
    add(
      'POST /v1/wallet/fx/quotes',
      alice,
      '/v1/wallet/fx/quotes',
      { from_currency: 'USD', to_currency: 'EUR', amount: 100, quote_id: ids.bobQuote },
      400,
      'invalid_request',
      "a quote request cannot name bob's quote",
    );
    forbidden(
      'PUT /v1/ops/fx/rates/{base}/{quote}',
      carol,
      '/v1/ops/fx/rates/USD/EUR',
      { rate: '100', reason: 'better rate' },
      'carol setting the rate she converts at',
    );
    forbidden(
      'PUT /v1/ops/fx/rates/{base}/{quote}',
      alice,
      '/v1/ops/fx/rates/CHF/USD',
      { rate: '1' },
      'alice adding a pair',
    );
    forbidden('GET /v1/ops/fx/rates', carol, '/v1/ops/fx/rates', undefined, 'carol listing rates and who set them');
    forbidden(
      'GET /v1/ops/fx/rates/{base}/{quote}',
      carol,
      '/v1/ops/fx/rates/USD/EUR',
      undefined,
      'carol reading rate history',
    );
    forbidden(
      'GET /v1/ops/fx/rates/{base}/{quote}',
      carol,
      '/v1/ops/fx/rates/CHF/USD',
      undefined,
      'carol reading a pair never set: 403, not 422',
    );

    forbidden('GET /v1/ops/audit', carol, '/v1/ops/audit', undefined, 'carol reading the audit');
    forbidden(
      'GET /v1/ops/audit',
      alice,
      `/v1/ops/audit?target=${bob}&limit=200`,
      undefined,
      "alice reading bob's audit",
    );
    forbidden('GET /v1/ops/transfers', carol, '/v1/ops/transfers', undefined, 'carol listing every transfer');
    forbidden(
      'GET /v1/ops/transfers',
      alice,
      '/v1/ops/transfers?status=PENDING_REVIEW',
      undefined,
      'alice listing the review queue',
    );
    forbidden('GET /v1/ops/transfers', bob, '/v1/ops/transfers?stuck=true', undefined, 'bob listing stuck transfers');
    forbidden('GET /v1/ops/reconciliation', carol, '/v1/ops/reconciliation', undefined, 'carol reading reconciliation');
    forbidden(
      'GET /v1/ops/settlement/{date}',
      carol,
      '/v1/ops/settlement/2026-12-06',
      undefined,
      'carol reading settlement reconciliation',
    );
    forbidden(
      'POST /v1/ops/settlement/{date}',
      carol,
      '/v1/ops/settlement/2026-12-06',
      undefined,
      'carol running settlement reconciliation',
    );
    // A token for an id that differs from bob's only in case is another user.
    forbidden(
      'GET /v1/wallet/{user_id}/balance',
      bob.toUpperCase(),
      `/v1/wallet/${bob}/balance`,
      undefined,
      "a token for BOB reading bob's balance",
    );
    forbidden(
      'POST /v1/wallet/{user_id}/withdrawals',
      bob.toUpperCase(),
      `/v1/wallet/${bob}/withdrawals`,
      movement(),
      "a token for BOB withdrawing bob's money",
    );
    // The codec endpoint decrypts what Temporal holds: a customer token reads none of it.
    const encrypted = { payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' }, data: 'AAAA' }] };
    forbidden('POST /codec/decode', alice, '/codec/decode', encrypted, 'a customer decrypting Temporal payloads');
    forbidden('POST /codec/encode', alice, '/codec/encode', encrypted, 'a customer encrypting as the wallet');
    forbidden('POST /codec/session', alice, '/codec/session', undefined, 'a customer signing in to the codec endpoint');
    return cases;
  }

  let cases: AccessCase[] = [];

  function expectError(answer: ApiAnswer, status: number, code: string, context: string) {
    assert.equal(answer.status, status, `${context}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body?.error?.code, code, context);
    assert.equal(typeof answer.body.error.message, 'string', context);
    assert.ok(code in error_codes, `${code} is documented`);
  }

  it('lets a customer read and use its own objects, and a party read the transfers it is party to', async () => {
    const balance = await send('GET', `/v1/wallet/${alice}/balance`, { caller: alice });
    assert.equal(balance.status, 200, JSON.stringify(balance.body));
    assert.deepEqual(
      balance.body.balances.map((line: { currency: string }) => line.currency),
      ['EUR', 'USD'],
    );
    assert.equal((await send('GET', `/v1/wallet/${bob}/balance?at=2020-01-01T00:00:00Z`, { caller: bob })).status, 200);

    const aliceTransfers = new Set([
      ids.aliceDeposit,
      ids.aliceToBob,
      ids.aliceFx,
      ids.bobFx,
      ids.aliceWithdrawal,
      ids.aliceBatchItem,
    ]);
    const history = await send('GET', `/v1/wallet/${alice}/transactions`, { caller: alice });
    assert.equal(history.status, 200, JSON.stringify(history.body));
    assert.deepEqual(
      new Set(history.body.entries.map((entry: { transfer_id: string }) => entry.transfer_id)),
      aliceTransfers,
    );
    // A cursor is an entry id; bob's newest one as alice's cursor pages alice's entries only.
    const paged = await send('GET', `/v1/wallet/${alice}/transactions?cursor=${ids.bobNewestEntry}`, { caller: alice });
    assert.equal(paged.status, 200);
    // An empty page would pass the loop below: alice has entries older than bob's newest.
    assert.ok(paged.body.entries.length > 0, 'alice has entries before the cursor');
    for (const entry of paged.body.entries as { transfer_id: string }[])
      assert.ok(aliceTransfers.has(entry.transfer_id), entry.transfer_id);
    const bobHistory = await send('GET', `/v1/wallet/${bob}/transactions?currency=EUR`, { caller: bob });
    assert.deepEqual(
      bobHistory.body.entries.map((entry: { transfer_id: string }) => entry.transfer_id),
      [ids.aliceFx],
    );

    for (const [caller, transferId, status] of [
      [alice, ids.aliceToBob, 'COMPLETED'],
      [bob, ids.aliceToBob, 'COMPLETED'],
      [alice, ids.aliceHeld, 'PENDING_REVIEW'],
      [bob, ids.aliceHeld, 'PENDING_REVIEW'],
      [alice, ids.aliceWithdrawal, 'COMPLETED'],
      [alice, ids.aliceDeposit, 'COMPLETED'],
      [alice, ids.bobFx, 'COMPLETED'],
      [bob, ids.bobFx, 'COMPLETED'],
      [bob, ids.aliceFx, 'COMPLETED'],
      [bob, ids.aliceBatchItem, 'COMPLETED'],
    ] as const) {
      const answer = await send('GET', `/v1/wallet/transfers/${transferId}`, { caller });
      assert.equal(answer.status, 200, `${caller} reading ${transferId}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.status, status);
    }
    // The payer reads its batch (the recipient read its item above), and ops any batch.
    for (const caller of [alice, 'ops_console']) {
      const batch = await send('GET', `/v1/wallet/transfer-batches/${ids.aliceBatch}`, {
        caller,
        ...(caller === alice ? {} : { role: 'ops' as Role }),
      });
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      assert.deepEqual(batch.body.counts, { COMPLETED: 1 });
    }
    // Past authorization: carol may create carol, who exists.
    expectError(
      await send('POST', '/v1/wallet/users', { caller: carol, body: { user_id: carol } }),
      409,
      'user_exists',
      'carol creating herself again',
    );
  });

  it("refuses every customer reaching for another user's object with the documented error", async (t) => {
    cases = accessCases();
    t.diagnostic(`${cases.length} access cases over ${new Set(cases.map((access) => access.route)).size} routes`);
    const failures: string[] = [];
    for (const access of cases) {
      const { method, pattern } = routeMatcher(access.route);
      assert.equal(method, access.method);
      assert.match(access.path, pattern, `${access.why}: the path is not of ${access.route}`);
      const answer = await send(access.method, access.path, {
        caller: access.caller,
        ...(access.body !== undefined ? { body: access.body } : {}),
      });
      const context = `${access.caller} ${access.method} ${access.path} (${access.why})`;
      if (answer.status !== access.status || answer.body?.error?.code !== access.code) {
        failures.push(
          `${context}: expected ${access.status} ${access.code}, got ${answer.status} ${JSON.stringify(answer.body)}`,
        );
        continue;
      }
      expectError(answer, access.status, access.code, context);
    }
    assert.deepEqual(failures, []);
  });

  it("answers others' objects exactly as missing ones, so ids cannot be probed", async () => {
    const same = async (
      caller: string,
      method: string,
      [existing, missing]: [string, string],
      path: (id: string) => string,
      body?: (id: string) => unknown,
    ) => {
      const seen = await send(method, path(existing), { caller, ...(body ? { body: body(existing) } : {}) });
      const unseen = await send(method, path(missing), { caller, ...(body ? { body: body(missing) } : {}) });
      const blank = (answer: ApiAnswer, id: string) =>
        JSON.parse(JSON.stringify(answer.body).split(id).join('<id>')) as unknown;
      assert.ok(seen.status >= 400, `${method} ${path(existing)} as ${caller}: ${JSON.stringify(seen.body)}`);
      assert.deepEqual(
        { status: seen.status, body: blank(seen, existing) },
        { status: unseen.status, body: blank(unseen, missing) },
        `${method} ${path(existing)} as ${caller}`,
      );
    };
    const transferPair: [string, string] = [ids.aliceToBob, ids.missingTransfer];
    await same(carol, 'GET', transferPair, (id) => `/v1/wallet/transfers/${id}`);
    await same(bob, 'GET', [ids.aliceWithdrawal, ids.missingTransfer], (id) => `/v1/wallet/transfers/${id}`);
    await same(
      carol,
      'POST',
      transferPair,
      (id) => `/v1/ops/transfers/${id}/reverse`,
      () => ({ reason: 'probe' }),
    );
    await same(
      carol,
      'POST',
      [ids.aliceHeld, ids.missingTransfer],
      (id) => `/v1/ops/transfers/${id}/approve`,
      () => ({ reason: 'probe' }),
    );
    await same(
      alice,
      'POST',
      [ids.bobQuote, ids.missingQuote],
      () => '/v1/wallet/transfers',
      (id) => ({
        from_user_id: alice,
        to_user_id: bob,
        amount: quoted_amount_minor,
        currency: 'USD',
        target_currency: 'EUR',
        quote_id: id,
        idempotency_key: `probe-${id}`,
      }),
    );
    const userPair: [string, string] = [bob, nobody];
    await same(carol, 'GET', userPair, (id) => `/v1/wallet/${id}/balance`);
    await same(carol, 'GET', userPair, (id) => `/v1/wallet/${id}/transactions`);
    await same(
      carol,
      'POST',
      userPair,
      (id) => `/v1/wallet/${id}/withdrawals`,
      () => ({ amount: 1, currency: 'USD', idempotency_key: 'probe' }),
    );
    await same(
      carol,
      'POST',
      userPair,
      () => '/v1/wallet/users',
      (id) => ({ user_id: id }),
    );
    await same(
      carol,
      'POST',
      userPair,
      () => '/v1/wallet/transfers',
      (id) => ({ from_user_id: id, to_user_id: carol, amount: 1, currency: 'USD', idempotency_key: 'probe' }),
    );
    await same(
      carol,
      'POST',
      userPair,
      (id) => `/v1/ops/users/${id}/freeze`,
      () => ({}),
    );
    await same(carol, 'GET', userPair, (id) => `/v1/ops/users/${id}/limits/USD`);
  });

  it('answers 401 on every authenticated route without a valid token, whatever role a forged one claims', async () => {
    const otherSecret = new TextEncoder().encode('not-the-wallet-secret-0123456789abcdef');
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      await new SignJWT({ role: 'ops' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(operator)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(otherSecret),
      await new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(carol)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(test_auth_secret)),
      await new SignJWT({ role: 'ops' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(operator)
        .setIssuedAt(now - 3_600)
        .sign(new TextEncoder().encode(test_auth_secret)),
      await signToken(test_auth_secret, { userId: carol, role: 'customer' }, '-1h'),
      (await tokenOf(carol)).replace(/\.[^.]+$/, '.c2lnbmF0dXJl'),
    ];
    const routes = [...new Set(cases.map((access) => access.route))];
    assert.ok(routes.length > 0, 'the access cases ran first');
    for (const route of routes) {
      const sample = cases.find((access) => access.route === route)!;
      const body = sample.body !== undefined ? { body: sample.body } : {};
      expectError(await send(sample.method, sample.path, body), 401, 'unauthenticated', `${route} without a token`);
      for (const token of bad)
        expectError(
          await send(sample.method, sample.path, { token, ...body }),
          401,
          'unauthenticated',
          `${route} with a bad token`,
        );
    }
  });

  it('has access cases for every documented route and every route Express serves behind authentication', async () => {
    const covered = new Set(cases.map((access) => access.route));
    const documented = documentedAuthenticatedRoutes();
    assert.ok(documented.length >= 15, `the OpenAPI document lists ${documented.length} authenticated routes`);
    assert.deepEqual(
      documented.filter((route) => !covered.has(route)),
      [],
      'documented routes without an access case',
    );
    assert.deepEqual(
      fx_routes.filter((route) => !covered.has(route)),
      [],
      'FX routes without an access case',
    );

    const served = expressRoutes(appOver(stack));
    assert.deepEqual(
      [...covered].filter((route) => !served.includes(route)),
      [],
      'access cases for routes Express does not serve',
    );
    const uncovered = served.filter((route) => !covered.has(route));
    // What is left must be public: it answers without a token. The table's routes answered 401 without one.
    assert.deepEqual(uncovered, [...public_routes].sort(), 'routes Express serves without an access case');
    for (const route of uncovered) {
      const [method, path] = route.split(' ') as [string, string];
      assert.equal((await send(method, path)).status, 200, `${route} is public`);
    }
  });

  it('changed nothing: no row on any shard, no workflow, no approval', async () => {
    const now = await snapshotShards(stack.shards);
    assert.deepEqual(Object.keys(now), Object.keys(before_attacks));
    for (const table of ['users', 'accounts', 'entries', 'transfers', 'ops_audit', 'fx_quotes', 'fx_rates']) {
      assert.ok(`0.${table}` in now, `${table} is snapshotted`);
    }
    for (const key of Object.keys(now)) assert.deepEqual(now[key], before_attacks[key], `${key} changed`);

    for (const [transferId, state] of workflowStates) {
      assert.equal(
        JSON.stringify(await stack.client.workflow.getHandle(transferId).query('status')),
        state,
        `the workflow state of ${transferId}`,
      );
    }
    // The transfers the refused requests would have made, had they been accepted: no workflow.
    const wouldBe = new Set<string>();
    for (const access of cases) {
      const body = access.body as { from_user_id?: string; idempotency_key?: string } | undefined;
      if (!body?.idempotency_key) continue;
      const movement = /^\/v1\/wallet\/([^/]+)\/(deposits|withdrawals)/.exec(access.path);
      if (movement)
        wouldBe.add(
          transferIdFor(movement[2] === 'deposits' ? 'deposit' : 'withdrawal', movement[1]!, body.idempotency_key),
        );
      else if (body.from_user_id)
        wouldBe.add(transferIdFor('transfer' satisfies TransferKind, body.from_user_id, body.idempotency_key));
    }
    // carol's replay of alice's key names alice's own transfer, which exists and is checked above.
    wouldBe.delete(ids.aliceToBob);
    assert.ok(wouldBe.size >= 20, `${wouldBe.size} refused transfers`);
    for (const transferId of wouldBe) {
      await assert.rejects(
        stack.client.workflow.getHandle(transferId).describe(),
        WorkflowNotFoundError,
        `${transferId} has a workflow`,
      );
    }
  });

  it("scopes idempotency keys and quotes to their owner: bob reusing alice's key gets his own transfer", async () => {
    const reused = await send('POST', '/v1/wallet/transfers?wait=30', {
      caller: bob,
      body: { from_user_id: bob, to_user_id: alice, amount: 7, currency: 'USD', idempotency_key: ids.aliceToBobKey },
    });
    assert.equal(reused.status, 200, JSON.stringify(reused.body));
    assert.notEqual(reused.body.transfer_id, ids.aliceToBob);
    assert.deepEqual([reused.body.from_user_id, reused.body.amount, reused.body.status], [bob, 7, 'COMPLETED']);
    expectError(
      await send('GET', `/v1/wallet/transfers/${reused.body.transfer_id}`, { caller: carol }),
      404,
      'transfer_not_found',
      "carol reading bob's new transfer",
    );
    // alice's own key is still hers: another body under it is refused.
    const own = await send('POST', '/v1/wallet/transfers', {
      caller: alice,
      body: { from_user_id: alice, to_user_id: bob, amount: 7, currency: 'USD', idempotency_key: ids.aliceToBobKey },
    });
    expectError(own, 422, 'idempotency_key_reused', 'alice reusing her own key');
    // The quote the others were refused still serves its owner.
    const used = await send('POST', '/v1/wallet/transfers?wait=30', {
      caller: alice,
      body: {
        from_user_id: alice,
        to_user_id: bob,
        amount: quoted_amount_minor,
        currency: 'USD',
        target_currency: 'EUR',
        quote_id: ids.aliceQuote,
        idempotency_key: uniqueName('own-quote'),
      },
    });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.status, 'COMPLETED');
    assert.equal(used.body.conversion.quote_id, ids.aliceQuote);
  });

  it('logs no token, no signing secret and no authorization header, at debug level, through every failure above', async () => {
    // A failure past validation that really reaches the database: alice's shard loses the table a
    // balance at an instant reads, for one request. The error middleware logs the database's error
    // with the request (the path a credential could leak through), and answers 503.
    const aliceShard = stack.shards.pool(stack.shards.shardOf(alice));
    const errorsBefore = logLines.filter((line) => line.includes('"request failed"')).length;
    await aliceShard.query('alter table entries rename to entries_away_for_the_log_test');
    let failed: Awaited<ReturnType<typeof send>>;
    try {
      failed = await send('GET', `/v1/wallet/${alice}/balance?at=2026-01-01T00:00:00Z`, { caller: alice });
    } finally {
      await aliceShard.query('alter table entries_away_for_the_log_test rename to entries');
    }
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    await sleep(200);
    const databaseErrors = logLines.filter((line) => line.includes('"request failed"')).slice(errorsBefore);
    assert.equal(databaseErrors.length, 1, `the database error is logged once: ${databaseErrors.join('\n')}`);
    assert.match(databaseErrors[0]!, /relation \\?"entries\\?" does not exist|42P01/);
    assert.ok(logLines.length > 100, `${logLines.length} log lines`);
    const parsed = logLines.map((line) => JSON.parse(line) as { level: number; status?: number });
    assert.ok(
      parsed.some((line) => line.level === 20),
      'debug lines are collected',
    );
    for (const status of [401, 403, 404])
      assert.ok(
        parsed.some((line) => line.status === status),
        `a request answered ${status} is logged`,
      );
    assert.ok(tokensSent.size >= 8, `${tokensSent.size} tokens`);
    const secrets = [
      test_auth_secret,
      ...tokensSent,
      ...[...tokensSent].map((token) => token.split('.')[2]!).filter((signature) => signature.length >= 16),
    ];
    const leaks = logLines.filter(
      (line) => secrets.some((secret) => line.includes(secret)) || /authorization|bearer/i.test(line),
    );
    assert.deepEqual(
      leaks.map((line) => line.slice(0, 300)),
      [],
      `${leaks.length} of ${logLines.length} log lines leak a credential`,
    );
  });
});
