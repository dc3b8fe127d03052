import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { halfDoneReversals } from '../ledger/reversal-reads';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import {
  batchesNeedingAttentionQuery,
  countTransfers,
  listTransfers,
  needsAttentionQuery,
  reviewQueueQuery,
  stuckTransfersQuery,
} from '../temporal-client/transfer-visibility';

/** Stuck transfer ids named in one error line; the line also says how many there are in all. */
const stuck_ids_logged_max = 20;

export interface TransferMonitorDependencies {
  client: Client;
  logger: Logger;
  /** A running transfer still PENDING this long after it started is stuck (and a hold this long past its deadline). */
  stuckAfterMs: number;
  /** How long a review hold lasts (its deadline after the start); absent: holds are not checked. */
  reviewTimeoutMs?: number;
  metrics: Pick<
    WalletMetrics,
    | 'transfersStuck'
    | 'reviewQueueLength'
    | 'transfersNeedingAttention'
    | 'transfersHalfReversed'
    | 'batchesNeedingAttention'
  >;
  /**
   * The shards and the activity budget (ACTIVITY_TIMEOUT_MS): a reversal whose debit posted longer
   * ago than the budget and whose credit has not is half done. Absent: reversals are not checked.
   */
  ledger?: { shards: readonly pg.Pool[]; activityTimeoutMs: number };
}

/**
 * Nothing stuck silently: counts stuck transfers (NEEDS_ATTENTION among them), those needing
 * attention, and the review queue in Temporal visibility, sets the three gauges, and logs an
 * error naming stuck transfers when there are any (a transfer whose credit keeps retrying
 * through a shard outage, whose workflow no worker runs, whose step failed for good, or whose
 * review hold is long past its deadline). With the shards, also counts half-done reversals
 * (checkHalfReversals).
 */
export async function checkTransfers(deps: TransferMonitorDependencies): Promise<{
  stuck: number;
  reviewQueue: number;
  needsAttention: number;
  halfReversed: number;
  batchesNeedingAttention: number;
}> {
  const stuckQuery = stuckTransfersQuery(Date.now(), deps.stuckAfterMs, deps.reviewTimeoutMs ?? null);
  const [stuck, reviewQueue, needsAttention, halfReversed, batchesNeedingAttention] = await Promise.all([
    countTransfers(deps.client, stuckQuery),
    countTransfers(deps.client, reviewQueueQuery()),
    countTransfers(deps.client, needsAttentionQuery()),
    deps.ledger ? checkHalfReversals(deps.ledger, deps) : 0,
    checkBatches(deps),
  ]);
  deps.metrics.transfersStuck.set(stuck);
  deps.metrics.reviewQueueLength.set(reviewQueue);
  deps.metrics.transfersNeedingAttention.set(needsAttention);
  if (stuck > 0) {
    const { transfers } = await listTransfers(deps.client, { query: stuckQuery, pageSize: stuck_ids_logged_max });
    deps.logger.error(
      {
        stuck_transfers: stuck,
        needing_attention: needsAttention,
        transfer_ids: transfers.map((transfer) => transfer.transferId),
        stuck_after_ms: deps.stuckAfterMs,
      },
      'transfers are stuck: NEEDS_ATTENTION, or still PENDING long after they started (GET /v1/ops/transfers?stuck=true lists them)',
    );
  }
  return { stuck, reviewQueue, needsAttention, halfReversed, batchesNeedingAttention };
}

/** Batches flagged NEEDS_ATTENTION (workflows/batch-attention.ts): sets the gauge, and logs an error naming them. */
async function checkBatches(deps: Pick<TransferMonitorDependencies, 'client' | 'logger' | 'metrics'>): Promise<number> {
  const query = batchesNeedingAttentionQuery();
  const count = await countTransfers(deps.client, query);
  deps.metrics.batchesNeedingAttention.set(count);
  if (count > 0) {
    const { transfers } = await listTransfers(deps.client, { query, pageSize: stuck_ids_logged_max });
    deps.logger.error(
      { batches_needing_attention: count, batch_ids: transfers.map((batch) => batch.transferId) },
      'transfer batches need attention: a step failed in a way no retry can fix (the batch tries it again every 10 min; its workflow details say which)',
    );
  }
  return count;
}

/**
 * Reversals stuck between their legs (ledger/reversal-reads.ts): the money is taken back from the
 * recipient but not yet returned to the sender. Sets the gauge, and logs an error naming them.
 */
async function checkHalfReversals(
  ledger: NonNullable<TransferMonitorDependencies['ledger']>,
  deps: Pick<TransferMonitorDependencies, 'logger' | 'metrics'>,
): Promise<number> {
  const ids = await halfDoneReversals(ledger.shards, ledger.activityTimeoutMs);
  deps.metrics.transfersHalfReversed.set(ids.length);
  if (ids.length > 0)
    deps.logger.error(
      {
        half_reversed_transfers: ids.length,
        transfer_ids: ids.slice(0, stuck_ids_logged_max),
        activity_timeout_ms: ledger.activityTimeoutMs,
      },
      'reversals half done: the reversal debit posted, its credit not, longer than the activity budget ago (the reverse workflow is retrying or lost)',
    );
  return ids.length;
}

/**
 * Checks at once and then every intervalMs, one run at a time (the next is scheduled when the
 * last ends, so a slow Temporal never piles runs up); a failed run is logged and the next
 * interval tries again. Returns a function that stops it and waits for a run in progress.
 */
export function runTransferMonitor(deps: TransferMonitorDependencies, intervalMs: number): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const run = () => {
    current = checkTransfers(deps).then(
      () => undefined,
      (error: unknown) => deps.logger.error({ err: error }, 'transfer monitor run failed; it runs again next interval'),
    );
    void current.then(() => {
      if (!stopped) timer = setTimeout(run, intervalMs);
    });
  };
  run();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
