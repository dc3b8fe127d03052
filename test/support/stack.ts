import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import pino from 'pino';
import { TransferCompletions } from '../../temporal-client/transfer-completions';
import { createApp, type AppDependencies } from '../../api/app';
import { answerClientErrorsAsJson } from '../../api/client-errors';
import { default_caller_limits, WaitSlots, type CallerLimits } from '../../api/caller-limits';
import { signToken, type Role } from '../../api/auth';
import { createWalletWorker, type WalletWorkerOptions } from '../../workers/create-worker';
import type { PayoutTimings } from '../../workflows/payout';
import { actionTokenKeys, issueActionToken, type ActionTokenGrant } from '../../domain/action-tokens';
import type { TransferLimits } from '../../domain/transfer-policy';
import type { TransferTimings } from '../../workflows/activity-options';
import { checkContract } from './contract';
import { createTestShards } from './shards';
import {
  connectTemporal,
  runInBackground,
  test_data_converter,
  test_payload_keys,
  uniqueName,
  workflowBundle,
} from './temporal';
import { createWebhookWorker, type WebhookSettings } from '../../workers/webhook-worker';
import { webhookTaskQueueOf } from '../../temporal-client/webhook-deliveries';
import { walletMetrics } from '../../metrics/wallet-metrics';

export const test_auth_secret = 'test-secret-for-the-wallet-suite-0123456789';
/** The suite's action-token keys (derived from its AUTH_SECRET, as the wallet does when ACTION_TOKEN_SECRET is unset). */
export const test_action_tokens = actionTokenKeys(test_auth_secret, 600);
export const test_timings = { activityTimeoutMs: 3_000, debitAttemptsMax: 5, retryIntervalMaxMs: 500 };
/** Long enough that no other suite's transfer counts as stuck; test/ops-monitoring.test.ts passes a short one. */
const test_stuck_after_ms = 300_000;
/**
 * Suites race dozens of requests from one customer on purpose (40 debits of one wallet), so
 * they run without per-customer bounds; test/caller-limits.test.ts checks the production ones.
 */
const test_caller_limits: CallerLimits = {
  ...default_caller_limits,
  customerRequestsPerWindow: 1_000_000,
  waitsPerCaller: 10_000,
};
/** The production defaults (config/index.ts); tests that need other limits pass their own. */
export const test_limits: TransferLimits = {
  reviewThresholdMinor: 1_000_000n,
  fourEyesThresholdMinor: 10_000_000n,
  transferAmountMaxMinor: 50_000_000n,
  dailyOutgoingMaxMinor: 100_000_000n,
};

/** What a suite may change in the stack; everything else is the suite's defaults above. */
interface TestStackOptions {
  activities?: object;
  withWorker?: boolean;
  /** Admission by queueing delay (ADMISSION_TARGET, TRANSFERS_IN_FLIGHT_CEILING); none where not given. */
  admission?: { targetMs: number; ceiling: number };
  temporalAddress?: string;
  timings?: TransferTimings;
  limits?: TransferLimits;
  stuckAfterMs?: number;
  quoteTtlMs?: number;
  /** Per-caller rate and wait bounds; test_caller_limits where not given. */
  callerLimits?: Partial<CallerLimits>;
  tokenMaxAgeS?: number;
  /** Where the wallet's log lines go (at LOG_LEVEL, default error); tests that read logs pass a stream. */
  logStream?: NodeJS.WritableStream;
  logLevel?: string;
  /** Browser origins the codec endpoint answers CORS for (the browser test's Web UI). */
  codecCorsOrigins?: string[];
  /** The pay-in poller's rail and bank link: its activities run on the worker (test/payins.test.ts). */
  payins?: WalletWorkerOptions['payins'];
  /** Payouts: the worker's rail and bank, and the API's payout timings (test/payouts.test.ts). */
  payouts?: {
    worker: NonNullable<WalletWorkerOptions['payouts']>;
    timings: PayoutTimings;
    stuckAfterMs: number;
  };
  /** Webhooks: given, a webhook worker runs with these settings (test/webhooks.test.ts); the routes are always there. */
  webhooks?: { settings: WebhookSettings; drainRunMs?: number };
}

/** Webhooks' settings where a suite gives none: short retries, loopback receivers allowed. */
export const test_webhook_settings: WebhookSettings = {
  schedule: { firstMs: 250, maxMs: 1_000, budgetMs: 5_000 },
  backlogMax: 5_000,
  requestTimeoutMs: 1_000,
  allowPrivate: true,
  concurrency: 8,
  secretGraceMs: 60_000,
};

/**
 * The wallet as `npm start` runs it, in one process: real Temporal, real shard databases, a
 * worker on its own task queue and the Express API on a free port, sharing one NativeConnection
 * (eager start) and in-process completion news.
 */
export async function startTestStack(options: TestStackOptions = {}) {
  const fixture = await createTestShards(4);
  const temporal = await connectTemporal(options.temporalAddress);
  const taskQueue = uniqueName('wallet-test');
  const logger = testLogger(options);
  const callerLimits = { ...test_caller_limits, ...options.callerLimits };
  const waitSlots = new WaitSlots(callerLimits, walletMetrics().registry);
  const runningWorkers: (() => Promise<void>)[] = [];
  const completions = new TransferCompletions();
  const client = new Client({ connection: temporal.nativeConnection, dataConverter: test_data_converter });
  const startWorker = async (activities = options.activities) => {
    const stop = runInBackground(
      await createWalletWorker({
        connection: temporal.nativeConnection,
        namespace: 'default',
        taskQueue,
        shards: fixture.shards,
        logger,
        metrics: walletMetrics(),
        workflowBundle: await workflowBundle(),
        dataConverter: test_data_converter,
        completions,
        actionTokens: test_action_tokens,
        ...(activities ? { activities } : {}),
        ...railsOf(options),
      }),
    );
    runningWorkers.push(stop);
    return stop;
  };
  if (options.withWorker !== false) await startWorker();
  runningWorkers.push(...(await webhookWorkers(options, { temporal, taskQueue, shards: fixture.shards, logger })));
  const app = createApp({
    shards: fixture.shards,
    client,
    logger,
    metrics: walletMetrics(),
    authSecret: test_auth_secret,
    actionTokens: test_action_tokens,
    taskQueue,
    timings: options.timings ?? test_timings,
    limits: options.limits ?? test_limits,
    completions,
    stuckAfterMs: options.stuckAfterMs ?? test_stuck_after_ms,
    codec: { dataConverter: test_data_converter, corsOrigins: options.codecCorsOrigins ?? [] },
    callerLimits,
    waitSlots,
    ...appOptionsOf(options),
  });
  const { server, baseUrl } = await listenLocally(app);

  return {
    ...fixture,
    client,
    completions,
    waitSlots,
    taskQueue,
    baseUrl,
    startWorker,
    api: apiClient(baseUrl),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all(runningWorkers.map((stop) => stop()));
      await temporal.close();
      await fixture.drop();
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * A second API over a running stack's shards and Temporal client, with the suite's settings and
 * the given changes: to walk the routes Express serves, or to serve with other settings.
 */
export function appOver(
  stack: Pick<TestStack, 'shards' | 'client' | 'taskQueue'>,
  changes: Partial<AppDependencies> = {},
) {
  return createApp({
    shards: stack.shards,
    client: stack.client,
    logger: pino({ level: 'silent' }),
    metrics: walletMetrics(),
    authSecret: test_auth_secret,
    actionTokens: test_action_tokens,
    taskQueue: stack.taskQueue,
    timings: test_timings,
    limits: test_limits,
    stuckAfterMs: test_stuck_after_ms,
    codec: { dataConverter: test_data_converter, corsOrigins: [] },
    webhooks: { ...test_webhook_settings, sealingKeys: test_payload_keys },
    ...changes,
  });
}

/** The app's options a suite may set, and the webhook routes (always there). */
function appOptionsOf(options: TestStackOptions) {
  return {
    ...(options.tokenMaxAgeS ? { tokenMaxAgeS: options.tokenMaxAgeS } : {}),
    ...(options.quoteTtlMs ? { quoteTtlMs: options.quoteTtlMs } : {}),
    ...(options.admission ? { admission: options.admission } : {}),
    payouts: options.payouts,
    webhooks: { ...(options.webhooks?.settings ?? test_webhook_settings), sealingKeys: test_payload_keys },
  };
}

/** The webhook worker beside the suite's own when it asks for one (test/webhooks.test.ts); answers its stop. */
async function webhookWorkers(
  options: TestStackOptions,
  on: {
    temporal: Awaited<ReturnType<typeof connectTemporal>>;
    taskQueue: string;
    shards: WalletWorkerOptions['shards'];
    logger: WalletWorkerOptions['logger'];
  },
) {
  if (!options.webhooks) return [];
  const { settings, drainRunMs } = options.webhooks;
  const worker = await createWebhookWorker({
    connection: on.temporal.nativeConnection,
    namespace: 'default',
    taskQueue: on.taskQueue,
    shards: on.shards,
    logger: on.logger,
    metrics: walletMetrics(),
    dataConverter: test_data_converter,
    sealingKeys: test_payload_keys,
    settings,
    workflowBundle: await workflowBundle(),
    ...(drainRunMs ? { drainRunMs } : {}),
  });
  const stopWorker = runInBackground(worker);
  const client = new Client({ connection: on.temporal.nativeConnection, dataConverter: test_data_converter });
  return [
    async () => {
      // The worker started a dispatcher per shard, and they run for good: the stack ends them with it.
      for (let shard = 0; shard < on.shards.count; shard++)
        await client.workflow
          .getHandle(`${webhookTaskQueueOf(on.taskQueue)}-dispatch-${shard}`)
          .terminate('test over')
          .catch(() => undefined);
      await stopWorker();
    },
  ];
}

/** The worker's pay-in and payout parts, when the test gives them. */
function railsOf(options: TestStackOptions): Pick<WalletWorkerOptions, 'payins' | 'payouts'> {
  return {
    ...(options.payins ? { payins: options.payins } : {}),
    ...(options.payouts ? { payouts: options.payouts.worker } : {}),
  };
}

/** The wallet's log lines at LOG_LEVEL (default error), to the suite's stream when it reads them. */
function testLogger(options: Pick<TestStackOptions, 'logLevel' | 'logStream'>) {
  const level = options.logLevel ?? process.env.LOG_LEVEL ?? 'error';
  return options.logStream ? pino({ level }, options.logStream) : pino({ level });
}

/** The app on a free loopback port. */
async function listenLocally(app: ReturnType<typeof createApp>): Promise<{ server: Server; baseUrl: string }> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  answerClientErrorsAsJson(server);
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** An action token of the suite's keys: what an operator's signal carries. */
export async function actionTokenFor(grant: ActionTokenGrant): Promise<string> {
  return (await issueActionToken(test_action_tokens, grant)).token;
}

export function tokenFor(userId: string, role: Role = 'customer'): Promise<string> {
  return signToken(test_auth_secret, { userId, role });
}

export interface ApiAnswer {
  status: number;
  body: any;
}

function apiClient(baseUrl: string) {
  async function call(
    method: string,
    path: string,
    options: { as?: string; role?: Role; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.as) headers.authorization = `Bearer ${await tokenFor(options.as, options.role)}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Non-JSON answers (metrics) stay text.
    }
    await checkContract(baseUrl, { method, path, status: response.status, headers: response.headers, body: parsed });
    return { status: response.status, body: parsed };
  }
  const ops = { as: 'ops_console', role: 'ops' as Role };
  return {
    call,
    createUser: (userId: string) => call('POST', '/v1/wallet/users', { ...ops, body: { user_id: userId } }),
    deposit: (userId: string, amount: number, key = uniqueName('dep'), currency = 'USD') =>
      call('POST', `/v1/wallet/${userId}/deposits?wait=30`, {
        ...ops,
        body: { amount, currency, idempotency_key: key },
      }),
    transfer: (from: string, to: string, amount: number, key = uniqueName('key'), wait = 30, extra: object = {}) =>
      call('POST', `/v1/wallet/transfers${wait > 0 ? `?wait=${wait}` : ''}`, {
        as: from,
        body: { from_user_id: from, to_user_id: to, amount, currency: 'USD', idempotency_key: key, ...extra },
      }),
    balance: async (userId: string, currency = 'USD'): Promise<number> => {
      const answer = await call('GET', `/v1/wallet/${userId}/balance`, ops);
      return answer.body.balances.find((line: { currency: string }) => line.currency === currency)?.amount ?? 0;
    },
    ops,
  };
}
