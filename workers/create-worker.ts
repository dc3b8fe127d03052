import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { Worker, type DataConverter, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { ChaosCrash } from '../activities/chaos-crash';
import { instrumentActivities } from '../activities/instrument';
import { createReconcileActivities } from '../activities/reconcile';
import { createSettlementActivities } from '../activities/settlement-reconcile';
import { ledgerSettlementLines } from '../ledger/settlement-lines';
import { settlementGauges } from '../metrics/settlement-metrics';
import { createBatchActivities } from '../activities/transfer-batches';
import { createPayinActivities, type PayinDependencies } from '../activities/payins';
import { createPayoutFeedActivities } from '../activities/payout-feed';
import { createPayoutFileActivities, type PayoutFileDependencies } from '../activities/payout-files';
import { createPayoutActivities } from '../activities/payouts';
import type { ShardSet } from '../db/shards';
import type { ActionTokenKeys } from '../domain/action-tokens';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import { reconciliationGauges } from '../metrics/reconciliation-metrics';
import { transferEventMetrics } from '../metrics/transfer-event-metrics';
import type { TransferCompletions } from '../temporal-client/transfer-completions';
import { batchTransferStarter } from './batch-item-starter';
import { payoutSignaler } from './payout-signaler';
import { worker_tuning } from './tuning';

/** The SETTLEMENT_GRACE default (config/index.ts), for workers built without configuration (tests). */
const settlement_grace_default_ms = 10 * 60_000;

export const workflows_path = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WalletWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  shards: ShardSet;
  logger: Logger;
  /** The process's metrics (metrics/wallet-metrics.ts): activities are timed and transfers counted there. */
  metrics: WalletMetrics;
  /** Tests pass a pre-built bundle (bundle once per file) and may wrap activities. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  activities?: object;
  completions?: TransferCompletions;
  /** Verifies the action tokens of operators' signals and updates; without it every one is refused. */
  actionTokens?: ActionTokenKeys;
  /** The payload codec (temporal-client/payload-codec.ts): every payload is encrypted before it reaches Temporal. */
  dataConverter: DataConverter;
  /** The fault hook of `npm run chaos`, from config. */
  chaosCrash?: ChaosCrash;
  /** STUCK_AFTER: a step retrying longer logs an error. */
  stuckAfterMs?: number;
  /** The pay-in poller's rail and bank link (activities/payins.ts); absent: its activities are not registered. */
  payins?: Pick<PayinDependencies, 'rail' | 'bank' | 'events'>;
  /** SETTLEMENT_GRACE: how long a bank line may wait for the wallet to hear of it before it is a break. */
  settlementGraceMs?: number;
  /** The rail and our bank: given, this worker also runs payouts, their cutoffs, the bank's feed and settlement reconciliation. */
  payouts?: Pick<PayoutFileDependencies, 'rail' | 'bank' | 'fileEntriesMax'>;
}

export async function createWalletWorker(options: WalletWorkerOptions): Promise<Worker> {
  // Batch items are started from activities, on the worker's own connection (no eager start: the
  // item runs on whichever worker takes it).
  const client = new Client({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: options.dataConverter,
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflows_path }),
    // Timed and counted on the process-wide metrics (the API's /metrics when it shares the process).
    activities: instrumentActivities(
      {
        // Reconciliation first, so activities a test passes in keep it unless they replace it.
        ...createReconcileActivities({
          shards: options.shards,
          logger: options.logger,
          gauges: reconciliationGauges(options.metrics.registry, options.shards),
        }),
        ...createBatchActivities({
          shards: options.shards,
          logger: options.logger,
          startTransfers: batchTransferStarter({ client, taskQueue: options.taskQueue }),
          ...(options.stuckAfterMs
            ? {
                retryingTooLongMs: options.stuckAfterMs,
                retryingTooLongCounter: options.metrics.ledgerStepsRetryingLong,
              }
            : {}),
        }),
        ...(options.payins
          ? createPayinActivities({ shards: options.shards, logger: options.logger, ...options.payins })
          : {}),
        ...payoutActivities(options, client),
        ...(options.activities ??
          createActivities({
            shards: options.shards,
            logger: options.logger,
            events: transferEventMetrics(options.metrics),
            ...(options.completions ? { completions: options.completions } : {}),
            ...(options.actionTokens ? { actionTokens: options.actionTokens } : {}),
            ...(options.chaosCrash ? { chaosCrash: options.chaosCrash } : {}),
            ...(options.stuckAfterMs
              ? {
                  retryingTooLongMs: options.stuckAfterMs,
                  retryingTooLongCounter: options.metrics.ledgerStepsRetryingLong,
                }
              : {}),
          })),
      },
      options.metrics,
    ),
    ...worker_tuning,
    // Graceful shutdown lets in-flight ledger transactions finish before the process exits.
    shutdownGraceTime: '10s',
    // Each leg holds at most one shard connection. One shard can take at most its pool plus a
    // bounded number of waiters (past that, ShardBusyError at once), and the slots leave a full pool for every
    // other shard: a shard blocked on a lock cannot stall transfers on the others (issue 9).
    maxConcurrentLocalActivityExecutions: options.shards.legSlots,
  });
}

/** The payout workflows' activities, when the worker has a rail and a bank to reach. */
function payoutActivities(options: WalletWorkerOptions, client: Client) {
  if (!options.payouts) return {};
  const common = { shards: options.shards, logger: options.logger };
  const files = { ...common, ...options.payouts, signals: payoutSignaler(client) };
  return {
    ...createPayoutActivities({ ...common, ...(options.actionTokens ? { actionTokens: options.actionTokens } : {}) }),
    ...createPayoutFileActivities(files),
    ...createPayoutFeedActivities(files),
    // The bank's statement against what the payouts and pay-ins of this rail moved.
    ...createSettlementActivities({
      ...common,
      bank: options.payouts.bank,
      ledger: ledgerSettlementLines(options.shards, options.payouts.rail.currency),
      graceMs: options.settlementGraceMs ?? settlement_grace_default_ms,
      gauges: settlementGauges(options.metrics.registry, options.shards),
    }),
  };
}
