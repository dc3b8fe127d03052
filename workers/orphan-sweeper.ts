import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { findStalePending } from '../ledger/transfers';
import { startTransferWorkflow } from '../runtime/start-transfer';
import type { TransferTimings } from '../workflows/activity-options';

/** Records looked at per shard per sweep; a backlog drains over several sweeps. */
export const sweep_batch_max = 100;

export interface SweepDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
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
    const stale = await findStalePending(pool, deps.orphanAgeMinMs, sweep_batch_max);
    for (const record of stale) {
      const request = {
        transferId: record.transferId,
        kind: record.kind,
        fromUserId: record.fromUserId,
        toUserId: record.toUserId,
        amountMinor: record.amountMinor.toString(),
        currency: record.currency,
        note: record.note,
      };
      if (await startTransferWorkflow(deps, request)) {
        started++;
        deps.logger.warn({ transfer_id: record.transferId, workflow_id: record.transferId }, 'started the workflow of an orphaned transfer record');
      }
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
