import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { answerClientErrorsAsJson } from '../api/client-errors';
import {
  actionTokenSettingsOf,
  chaosCrashOf,
  payoutTimingsOf,
  config,
  limitsOf,
  shardTimeoutsOf,
  timingsOf,
  type Config,
  webhookSettingsOf,
} from '../config';
import { setConnectionErrorLog } from '../db/connection-errors';
import { ShardSet } from '../db/shards';
import { actionTokenKeys, type ActionTokenKeys } from '../domain/action-tokens';
import { createWalletWorker } from '../workers/create-worker';
import { ensureReconcileSchedule } from '../workers/reconcile-schedule';
import { ensurePayinSchedule } from '../workers/payin-schedule';
import { ensureSettlementSchedule } from '../workers/settlement-schedule';
import { payinMetrics } from '../metrics/payin-metrics';
import { payinPartsOf } from './payin-parts';
import { railPartsOf } from './rail-parts';
import { runOrphanSweeper } from '../workers/orphan-sweeper';
import { createLogger } from './logger';
import { serveWorkerMetrics } from '../metrics/metrics-server';
import { walletMetrics, type WalletMetrics } from '../metrics/wallet-metrics';
import { connectWorker, createTemporalClient, installTemporalLogging } from './temporal';
import { TransferCompletions } from '../temporal-client/transfer-completions';
import { StartPacer } from '../temporal-client/start-pacer';
import { startPacerMetrics } from '../metrics/start-pacer-metrics';
import { heldBy, startTransferWorkflow, transferOf } from '../temporal-client/start-transfer';
import { walletDataConverter } from '../temporal-client/payload-codec';
import { runTransferMonitor } from '../workers/transfer-monitor';
import { ensurePayoutSchedules } from '../workers/payout-schedules';
import { runJetStreamRelay } from '../workers/event-relay';
import { eventRelayMetrics } from '../metrics/event-relay-metrics';
import { startWebhookWorker } from './webhook-parts';

export interface WalletRoles {
  api: boolean;
  worker: boolean;
}

/**
 * One wallet process: the API, the worker, or both. Both is the single-machine default
 * (`npm start`): they share one NativeConnection, so transfers start eagerly on this process's
 * worker, and `?wait` hears of a finished transfer in-process. `npm run api` and
 * `npm run worker` run the roles apart, for scale-out.
 */
export async function runWalletNode(roles: WalletRoles): Promise<void> {
  const settings = config();
  const name = roles.api && roles.worker ? 'wallet' : roles.api ? 'api' : 'worker';
  const logger = createLogger(name, settings.LOG_LEVEL);
  if (roles.api && settings.usesDevAuthSecret)
    logger.warn('AUTH_SECRET is the documented development default; set your own outside development');
  if (settings.usesDevPayloadKey)
    logger.warn('PAYLOAD_KEYS is the documented development key; set your own outside development');
  if (roles.worker)
    installTemporalLogging(
      logger,
      settings.TEMPORAL_SDK_METRICS_ADDRESS === 'off' ? undefined : settings.TEMPORAL_SDK_METRICS_ADDRESS,
    );
  // A lost PostgreSQL connection fails what ran on it (and is retried); it is logged, never fatal.
  setConnectionErrorLog((details) => logger.warn(details, 'PostgreSQL connection lost'));
  // A statement may take at most half an activity attempt and a lock wait a quarter: one blocked
  // on a lock fails and is retried instead of committing long after its attempt timed out.
  const shards = new ShardSet(settings.shardUrls, settings.SHARD_POOL_SIZE, shardTimeoutsOf(settings));
  await shards.ping();

  // One set of series for the whole process: the API's /metrics shows the worker's too.
  const { secret, ttlS } = actionTokenSettingsOf(settings);
  const actionTokens = actionTokenKeys(secret, ttlS);
  const parts: Parts = {
    settings,
    shards,
    logger,
    metrics: walletMetrics(),
    actionTokens,
    dataConverter: walletDataConverter(settings.payloadKeys),
    closers: [],
  };
  const { client, worker, completions, startPacer } = roles.worker
    ? await startWorker(parts, roles)
    : connectClient(parts);
  const server = roles.api
    ? await listen(parts, client, completions && startPacer && { completions, startPacer })
    : undefined;
  logger.info({ task_queue: settings.TEMPORAL_TASK_QUEUE, shards: shards.count, ...roles }, `${name} started`);

  await untilStopped(name, logger, server, worker);
  // Also when the worker stopped by itself: the API must stop before the pools it uses close.
  if (server) await drain(server);
  for (const close of parts.closers) await close().catch(() => undefined);
  await shards.close();
  logger.info(`${name} stopped`);
}

/** What every part of the process is built from, and what closes when it stops (in order). */
interface Parts {
  settings: Config;
  shards: ShardSet;
  logger: Logger;
  metrics: WalletMetrics;
  /** Signs (API) and verifies (worker) the operators' action tokens. */
  actionTokens: ActionTokenKeys;
  /** Encrypts every payload this process sends to Temporal (PAYLOAD_KEYS); the codec endpoint uses its codec. */
  dataConverter: ReturnType<typeof walletDataConverter>;
  closers: (() => Promise<unknown>)[];
}

/**
 * The worker with its orphan sweeper, transfer monitor and reconciliation schedule. The client
 * rides on the worker's NativeConnection: that is what makes eager start possible, and the
 * completion channel lets `?wait` hear in-process that a transfer finished.
 */
async function startWorker(parts: Parts, roles: WalletRoles) {
  const { settings, shards, logger, metrics, actionTokens, closers } = parts;
  const connection = await connectWorker(settings);
  const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE, dataConverter: parts.dataConverter });
  const completions = new TransferCompletions();
  const railParts = railPartsOf(settings);
  const payins = payinPartsOf(settings, railParts, payinMetrics(metrics.registry));
  const worker = await createWalletWorker({
    connection,
    namespace: settings.TEMPORAL_NAMESPACE,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    shards,
    logger,
    metrics,
    completions,
    actionTokens,
    dataConverter: parts.dataConverter,
    chaosCrash: chaosCrashOf(settings),
    stuckAfterMs: settings.STUCK_AFTER,
    ...(payins ? { payins: payins.worker } : {}),
    payouts: railParts,
    settlementGraceMs: settings.SETTLEMENT_GRACE,
  });
  closers.push(() => connection.close());
  closers.unshift(await startWebhookWorker(parts, connection));
  const startPacer = pacedStarts(parts, client, completions);
  closers.unshift(startSweeper(parts, client, startPacer));
  await ensureSchedules(parts, client, payins?.everyMs);
  closers.unshift(
    runTransferMonitor(
      {
        client,
        logger,
        metrics,
        stuckAfterMs: settings.STUCK_AFTER,
        reviewTimeoutMs: settings.REVIEW_TIMEOUT,
        ledger: { shards: shards.pools, activityTimeoutMs: settings.ACTIVITY_TIMEOUT_MS },
      },
      settings.MONITOR_INTERVAL_MS,
    ),
  );
  if (settings.NATS_URL) closers.unshift(startEventRelay(parts, settings.NATS_URL));
  // Alone, the worker has no API to serve its metrics.
  if (!roles.api)
    closers.unshift(await serveWorkerMetrics(metrics.registry, settings.WORKER_METRICS_PORT, settings.HOST, logger));
  return { client, worker, completions, startPacer };
}

/**
 * The worker's Temporal Schedules: reconciliation, pay-ins (unless PAYIN_POLL_EVERY is off), the
 * payout cutoff and the bank's feed, settlement reconciliation. A schedule that cannot be set up
 * must not stop a worker that moves money: each is logged, and tried again at the next start.
 */
async function ensureSchedules({ settings, logger }: Parts, client: Client, payinEveryMs: number | undefined) {
  const base = { client, taskQueue: settings.TEMPORAL_TASK_QUEUE };
  const logged = (what: string) => (error: unknown) =>
    logger.error({ err: error }, `the ${what} could not be created or updated`);
  await ensureReconcileSchedule({ ...base, everyMs: settings.RECONCILE_EVERY_MS }).catch(
    logged('reconciliation schedule'),
  );
  if (payinEveryMs !== undefined)
    await ensurePayinSchedule({ ...base, everyMs: payinEveryMs }).catch(logged('pay-in schedule'));
  await ensurePayoutSchedules({
    ...base,
    cutoffEveryMs: settings.PAYOUT_CUTOFF_EVERY,
    inboundEveryMs: settings.PAYOUT_INBOUND_EVERY,
  }).catch(logged('payout schedules (payouts wait until a start sets them up)'));
  await ensureSettlementSchedule({ ...base, everyMs: settings.SETTLEMENT_RECONCILE_EVERY }).catch(
    logged('settlement reconciliation schedule'),
  );
}

/**
 * The JetStream relay of the wallet events (NATS_URL; docs/events.md, "The stream"). Every worker
 * runs it; per shard one process relays at a time (an advisory lock), another takes over when it dies.
 */
function startEventRelay({ settings, shards, logger, metrics }: Parts, natsUrl: string) {
  return runJetStreamRelay(natsUrl, {
    shardUrls: shards.urls,
    logger,
    metrics: eventRelayMetrics(metrics.registry),
    pollMs: settings.EVENT_RELAY_POLL,
  });
}

/** Starts this process's transfers at the pace its worker finishes them (TRANSFER_START_WINDOW). */
function pacedStarts({ settings, shards, logger, metrics }: Parts, client: Client, completions: TransferCompletions) {
  const starter = {
    client,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    timings: timingsOf(settings),
    limits: limitsOf(settings),
    eagerStart: true,
  };
  const counts = startPacerMetrics(metrics.registry);
  const pacer = new StartPacer(
    {
      start: (record, { eager }) =>
        startTransferWorkflow({ ...starter, eagerStart: eager }, transferOf(record), heldBy(record)),
      shardsOf: (record) => shards.shardsOfParties(record),
      hasFinished: (transferId) => completions.hasFinished(transferId),
      deferred: () => counts.deferred.inc(),
      waitingNow: (count) => counts.waiting.set(count),
      failed: (record, error) =>
        logger.warn(
          { err: error, transfer_id: record.transferId },
          'a deferred transfer start failed; the orphan sweeper starts it',
        ),
    },
    { windowMax: settings.TRANSFER_START_WINDOW },
  );
  completions.onFinished((transferId) => pacer.finished(transferId));
  return pacer;
}

/** The API alone: a client that connects lazily, so it can start (and say "not ready") while Temporal is down. */
function connectClient(parts: Parts) {
  const lazy = createTemporalClient(parts.settings, parts.settings.TEMPORAL_NAMESPACE, parts.dataConverter);
  parts.closers.push(() => lazy.connection.close());
  return { client: lazy.client, worker: undefined, completions: undefined, startPacer: undefined };
}

/** Resolves on SIGINT or SIGTERM once the requests and the worker drained, or when the worker stopped by itself. */
function untilStopped(name: string, logger: Logger, server: Server | undefined, worker: Worker | undefined) {
  return new Promise<void>((resolve) => {
    const stop = () => {
      logger.info(`${name} stopping`);
      // Requests first: no new transfer starts once the worker is draining, and the ones being
      // answered finish (they write records and start workflows) before anything closes.
      void (server ? drain(server) : Promise.resolve()).then(() => {
        // The worker drains in-flight workflow tasks (ledger legs finish) before run() resolves.
        if (worker && worker.getState() === 'RUNNING') worker.shutdown();
        if (!worker) resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void worker?.run().then(resolve, (error: unknown) => {
      logger.error({ err: error }, 'worker stopped with an error');
      process.exitCode = 1;
      resolve();
    });
  });
}

/** In-flight requests get this long to finish when the process stops; then their connections are cut. */
const request_drain_max_ms = 5_000;

/** Stops accepting connections and resolves when the open ones are done (or cut after the drain limit). */
function drain(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), request_drain_max_ms);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function startSweeper({ settings, shards, logger, metrics }: Parts, client: Client, pacer: StartPacer) {
  return runOrphanSweeper(
    {
      shards,
      client,
      taskQueue: settings.TEMPORAL_TASK_QUEUE,
      timings: timingsOf(settings),
      limits: limitsOf(settings),
      logger,
      metrics,
      orphanAgeMinMs: settings.ORPHAN_AGE_MIN_MS,
      isDeferredHere: (transferId) => pacer.isDeferred(transferId),
    },
    settings.ORPHAN_SWEEP_INTERVAL_MS,
  );
}

async function listen(
  { settings, shards, logger, metrics, actionTokens, dataConverter }: Parts,
  client: Client,
  local: { completions: TransferCompletions; startPacer: StartPacer } | undefined,
): Promise<Server> {
  const app = createApp({
    shards,
    client,
    logger,
    metrics,
    authSecret: settings.AUTH_SECRET,
    actionTokens,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    timings: timingsOf(settings),
    limits: limitsOf(settings),
    currencies: settings.currencies,
    stuckAfterMs: settings.STUCK_AFTER,
    payouts: { timings: payoutTimingsOf(settings), stuckAfterMs: settings.PAYOUT_STUCK_AFTER },
    codec: { dataConverter, corsOrigins: settings.codecCorsOrigins },
    fundingBank: { routingNumber: settings.BANK_ROUTING, name: settings.BANK_NAME },
    webhooks: { ...webhookSettingsOf(settings), sealingKeys: settings.payloadKeys },
    quoteTtlMs: settings.QUOTE_TTL,
    tokenMaxAgeS: Math.ceil(settings.TOKEN_MAX_AGE / 1000),
    callerLimits: {
      customerRequestsPerWindow: settings.RATE_LIMIT_CUSTOMER,
      opsRequestsPerWindow: settings.RATE_LIMIT_OPS,
      rateWindowMs: settings.RATE_LIMIT_WINDOW,
      waitsPerCaller: settings.WAITS_PER_CALLER_MAX,
      waitsMax: settings.WAITS_MAX,
    },
    ...(local
      ? {
          ...local,
          admission: { targetMs: settings.ADMISSION_TARGET, ceiling: settings.TRANSFERS_IN_FLIGHT_CEILING },
        }
      : {}),
  });
  const server = app.listen(settings.PORT, settings.HOST);
  answerClientErrorsAsJson(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ url: `http://${settings.HOST}:${settings.PORT}` }, 'api listening');
  return server;
}
