import type { ShardSet } from '../db/shards';
import { runningBatchesOlderThan } from '../ledger/transfer-batches';
import { startTransferBatchWorkflow, type BatchStarterDependencies } from '../temporal-client/start-transfer-batch';
import { forEachSettled } from './for-each-limited';

/** Batches looked at per shard and sweep; starts (mostly joins) at once. */
const batches_per_sweep_max = 1_000;
const batch_starts_concurrent_max = 8;

/**
 * The API records a batch before it starts its workflow, as it does a transfer: a batch left
 * RUNNING with no workflow (the API died between the two), or whose workflow ended without
 * completing it (terminated), is started again. Starting joins a running workflow
 * (USE_EXISTING), so a batch waiting on reviews costs one start request per sweep. Returns how
 * many batches were looked at.
 */
export async function sweepOrphanedBatches(
  deps: BatchStarterDependencies & { shards: ShardSet; orphanAgeMinMs: number },
): Promise<number> {
  let seen = 0;
  for (const pool of deps.shards.pools) {
    const batches = await runningBatchesOlderThan(pool, deps.orphanAgeMinMs, batches_per_sweep_max);
    seen += batches.length;
    const failures = await forEachSettled(batches, batch_starts_concurrent_max, (batch) =>
      startTransferBatchWorkflow(deps, batch),
    );
    if (failures.length > 0) throw failures[0]!.error;
  }
  return seen;
}
