import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { findStalePending, type TransferRecord } from '../ledger/transfers';
import { heldBy, requestOfRecord, startTransferWorkflow } from '../runtime/start-transfer';
import type { TransferLimits } from '../domain/transfer-policy';
import type { TransferTimings } from '../workflows/activity-options';

/** Records read per query, and the most one sweep looks at per shard (the rest wait for the next sweep). */
export const sweep_page_size = 100;
export const sweep_records_max = 10_000;

export interface SweepDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
  logger: Logger;
  /** Only records at least this old: younger ones may still be on their way to Temporal. */
  orphanAgeMinMs: number;
}

/**
 * The API records a transfer before it starts its workflow. If the API process dies between
 * the two, the record stays PENDING with no workflow and the client may never retry. The
 * sweeper starts the workflow of every old PENDING record; for records whose workflow exists
 * (a transfer still retrying its credit, say) the start is a no-op. Returns how many it started.
 */
export async function sweepOrphanedTransfers(deps: SweepDependencies): Promise<number> {
  let started = 0;
  for (const pool of deps.shards.pools) {
    // Pages through every stale record: old ones whose workflow is still running (a credit
    // retrying through a shard outage) must not hide newer orphans behind them.
    for (let seen = 0, afterTransferId: string | undefined; seen < sweep_records_max; ) {
      const page = await findStalePending(pool, { olderThanMs: deps.orphanAgeMinMs, limit: sweep_page_size, afterTransferId });
      started += await startAll(deps, page);
      seen += page.length;
      afterTransferId = page.at(-1)?.transferId;
      if (page.length < sweep_page_size) break;
    }
  }
  return started;
}

async function startAll(deps: SweepDependencies, records: TransferRecord[]): Promise<number> {
  let started = 0;
  for (const record of records) {
    if ((await startTransferWorkflow(deps, requestOfRecord(record), heldBy(record))) !== 'existing') {
      started++;
      deps.logger.warn({ transfer_id: record.transferId, workflow_id: record.transferId }, 'started the workflow of an orphaned transfer record');
    }
  }
  return started;
}

/** Sweeps every intervalMs until the returned stop function is called; a failed sweep is logged and retried next time. */
export function runOrphanSweeper(deps: SweepDependencies, intervalMs: number): () => Promise<void> {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    current = current.then(() =>
      stopped ? undefined : sweepOrphanedTransfers(deps).catch((error: unknown) => deps.logger.error({ err: error }, 'orphan sweep failed')),
    );
  }, intervalMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}
