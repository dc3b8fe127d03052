import express, { type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { reconciliationGauges } from '../metrics/reconciliation-metrics';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import type { TransferCompletions } from '../temporal-client/transfer-completions';
import type { StartPacer } from '../temporal-client/start-pacer';
import type { ActionTokenKeys } from '../domain/action-tokens';
import type { TransferLimits } from '../domain/transfer-policy';
import type { TransferTimings } from '../workflows/activity-options';
import { authenticate } from './auth';
import { default_caller_limits, rateLimitPerCaller, WaitSlots, type CallerLimits } from './caller-limits';
import { errorMiddleware, notFoundRoute } from './errors';
import { createMetrics } from './metrics';
import { moneyRoutes } from './routes/money';
import { opsAuditRoutes } from './routes/ops-audit';
import { opsTransferRoutes } from './routes/ops-transfers';
import { opsUserRoutes } from './routes/ops-users';
import { opsTransferListRoutes } from './routes/ops-transfers-list';
import { opsReconciliationRoutes } from './routes/ops-reconciliation';
import { opsSettlementRoutes } from './routes/ops-settlement';
import { settlementGauges } from '../metrics/settlement-metrics';
import { systemRoutes } from './routes/system';
import { walletRoutes } from './routes/wallets';
import { walletEventRoutes } from './routes/wallet-events';
import { WalletFeeds } from './wallet-feed';
import { bankAccountRoutes } from './routes/bank-accounts';
import { payinRoutes, type FundingBank } from './routes/payins';
import { TransferService } from './transfer-service';
import { TransferBatchService } from './transfer-batch-service';
import { transferBatchRoutes } from './routes/transfer-batches';
import { FxService } from './fx-service';
import { fxRoutes } from './routes/fx';
import { codecRoutes, type CodecEndpointOptions } from './routes/codec';
import { jsonBodies } from './json-body';
import { PayoutService } from './payout-service';
import { payoutRoutes } from './routes/payouts';
import type { PayoutTimings } from '../workflows/payout';
import { wallet_currencies_default, walletCurrencies } from '../domain/money';
import { webhookRoutes, type WebhookRouteOptions } from './routes/webhooks';

const quote_ttl_default_ms = 30_000;

/** The development bank's routing number and name (config/index.ts BANK_ROUTING, BANK_NAME defaults). */
const dev_funding_bank: FundingBank = { routingNumber: '231380104', name: 'Wallet Dev Bank' };

export interface AppDependencies {
  /** Our bank as funding instructions name it; the development bank when not given. */
  fundingBank?: FundingBank;
  shards: ShardSet;
  client: Client;
  logger: Logger;
  /** The process's metrics (metrics/wallet-metrics.ts): the API adds its series to their registry. */
  metrics: Pick<WalletMetrics, 'registry' | 'transferSeconds'>;
  authSecret: string;
  /** Signs the action tokens the ops routes send with each update, and issues them to operators. */
  actionTokens: ActionTokenKeys;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
  /** The currencies wallets hold (CURRENCIES); wallet_currencies_default when not given. */
  currencies?: ReadonlySet<string>;
  /** Given when a worker shares this process (and `client` is on its NativeConnection). */
  completions?: TransferCompletions;
  /** With completions: the pacer of this process's transfer starts. */
  startPacer?: StartPacer;
  /** With completions: admission by queueing delay (ADMISSION_TARGET, TRANSFERS_IN_FLIGHT_CEILING). */
  admission?: { targetMs: number; ceiling: number };
  /** A running transfer still PENDING this long after it started is stuck (GET /v1/ops/transfers?stuck=true). */
  stuckAfterMs: number;
  /** How long an FX quote locks its rate (QUOTE_TTL); 30 s when not given. */
  quoteTtlMs?: number;
  /** TOKEN_MAX_AGE in seconds; 24 h when not given. */
  tokenMaxAgeS?: number;
  /** Per-caller request rate and open `?wait` bounds; default_caller_limits when not given. */
  callerLimits?: CallerLimits;
  /** The payload codec endpoint for the Temporal Web UI and CLI (POST /codec/decode, /codec/encode). */
  codec: CodecEndpointOptions;
  /** Given by tests that read how many waits are open; made here otherwise. */
  waitSlots?: WaitSlots;
  /** Payouts' timings (PAYOUT_RETURN_WINDOW) and PAYOUT_STUCK_AFTER; payout_defaults when not given. */
  payouts?: { timings: PayoutTimings; stuckAfterMs: number };
  /** Webhook endpoints (PAYLOAD_KEYS seal their secrets; WEBHOOK_* settings); the routes are absent without it. */
  webhooks?: Omit<WebhookRouteOptions, 'shards' | 'starter'> &
    Pick<WebhookRouteOptions['starter'], 'schedule' | 'backlogMax'>;
}

/** Without payout settings (tests of other parts): a return window of a few dev banking days, stuck after 5 minutes, review as REVIEW_TIMEOUT's default. */
const payout_defaults = { returnWindowMs: 90_000, stuckAfterMs: 300_000, reviewTimeoutMs: 3 * 86_400_000 };

export function createApp(deps: AppDependencies) {
  const app = express();
  const callerLimits = deps.callerLimits ?? default_caller_limits;
  const metrics = createMetrics(deps.metrics.registry);
  const currencies = deps.currencies ?? walletCurrencies(wallet_currencies_default);
  // /metrics reads the latest reconciliation run from its table, whichever process ran it.
  reconciliationGauges(metrics.registry, deps.shards);
  settlementGauges(metrics.registry, deps.shards);
  const fx = new FxService({ shards: deps.shards, quoteTtlMs: deps.quoteTtlMs ?? quote_ttl_default_ms });
  // What starting a transfer needs, single or in a batch.
  const starting = {
    shards: deps.shards,
    client: deps.client,
    taskQueue: deps.taskQueue,
    timings: deps.timings,
    limits: deps.limits,
    currencies,
  };
  const transfers = new TransferService({
    fx,
    ...starting,
    transferSeconds: deps.metrics.transferSeconds,
    ...(deps.completions ? { completions: deps.completions } : {}),
    ...(deps.startPacer ? { startPacer: deps.startPacer } : {}),
    ...(deps.admission ? { admission: { ...deps.admission, registry: metrics.registry } } : {}),
  });

  const batches = new TransferBatchService(starting);
  const payouts = new PayoutService({
    ...starting,
    actionTokens: deps.actionTokens,
    reviewTimeoutMs: deps.timings.reviewTimeoutMs ?? payout_defaults.reviewTimeoutMs,
    timings: deps.payouts?.timings ?? {
      activityTimeoutMs: deps.timings.activityTimeoutMs,
      retryIntervalMaxMs: deps.timings.retryIntervalMaxMs,
      returnWindowMs: payout_defaults.returnWindowMs,
    },
    // The one rail today (rails/rail.ts): ACH moves USD.
    railCurrency: 'USD',
  });
  const waitSlots = deps.waitSlots ?? new WaitSlots(callerLimits, metrics.registry);

  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metrics.observeRequests);
  app.use(logRequests(deps.logger));
  app.use(systemRoutes({ shards: deps.shards, client: deps.client, metrics }));
  // Before the 16 kB JSON bodies: a codec request carries a page of a history's payloads.
  app.use(codecRoutes(deps.codec, deps.authSecret, deps.tokenMaxAgeS));
  app.use(jsonBodies());
  app.use(authenticate(deps.authSecret, deps.tokenMaxAgeS));
  app.use(rateLimitPerCaller(callerLimits, metrics.registry));
  app.use(fxRoutes(deps.shards, fx, currencies));
  app.use(walletRoutes(deps.shards));
  app.use(walletEventRoutes(deps.shards, new WalletFeeds(deps.shards)));
  app.use(bankAccountRoutes(deps.shards));
  app.use(payinRoutes(deps.shards, deps.fundingBank ?? dev_funding_bank));
  app.use(moneyRoutes(transfers, metrics, waitSlots));
  app.use(transferBatchRoutes(batches, waitSlots));
  app.use(payoutRoutes(payouts, waitSlots, deps.payouts?.stuckAfterMs ?? payout_defaults.stuckAfterMs));
  app.use(opsTransferRoutes(transfers, deps.client, deps.actionTokens));
  app.use(opsUserRoutes(deps.shards, deps.limits, currencies, deps.timings));
  app.use(opsAuditRoutes(deps.shards));
  app.use(opsTransferListRoutes({ client: deps.client, authSecret: deps.authSecret, stuckAfterMs: deps.stuckAfterMs }));
  app.use(opsReconciliationRoutes(deps.shards));
  app.use(opsSettlementRoutes({ shards: deps.shards, client: deps.client, taskQueue: deps.taskQueue }));
  if (deps.webhooks) {
    const { schedule, backlogMax, ...webhooks } = deps.webhooks;
    const starter = { client: deps.client, taskQueue: deps.taskQueue, schedule, backlogMax };
    app.use(webhookRoutes({ ...webhooks, shards: deps.shards, starter }));
  }
  app.use(notFoundRoute);
  app.use(errorMiddleware(deps.logger));
  return app;
}

function logRequests(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      // Requests that start or read a transfer name it, so one grep finds its HTTP and workflow lines.
      const transferId = response.locals.transferId as string | undefined;
      logger.info(
        {
          method: request.method,
          path: request.path,
          status: response.statusCode,
          duration_ms: durationMs,
          ...(transferId ? { transfer_id: transferId, workflow_id: transferId } : {}),
        },
        'request',
      );
    });
    next();
  };
}
