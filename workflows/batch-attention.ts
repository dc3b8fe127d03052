import { log, patched, setCurrentDetails, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { BatchActivities } from '../activities/transfer-batches';
import { eachActivityThrough, finalFailureOf } from './needs-attention';
import { BatchStatusKey } from './search-attributes';

/**
 * From this patch on, a batch step that fails for good flags the batch NEEDS_ATTENTION instead
 * of failing its run. Taken only when such a failure happens, which earlier code never saw (its
 * batch activities retried every error without limit), so older histories replay unchanged.
 */
const batch_needs_attention_patch = 'batch-needs-attention';

/**
 * A flagged batch tries its step again this long after: slow enough that a step no retry can fix
 * costs one attempt and one log line per interval, not a spin, and soon enough that the batch
 * goes on by itself once ops fixed the cause (a constraint, a bug fixed by a deploy).
 */
const attention_retry_ms = 10 * 60_000;

/**
 * The batch's activities, each escalating instead of spinning: an error no retry can fix (a
 * `ledger_error_*` or `payload_invalid` failure, activities/classify-failures.ts) sets the
 * batch's BatchStatus search attribute to NEEDS_ATTENTION (the transfer monitor counts it in
 * wallet_batches_needing_attention and logs it), and the step runs again every
 * attention_retry_ms until it succeeds; the batch is then RUNNING again. Every step is
 * idempotent (records by key, workflows joined), so a rerun does each item once.
 */
export function escalatingBatch(batch: BatchActivities, batchId: string): BatchActivities {
  return eachActivityThrough(batch, (name, run) => untilDone(batchId, name, run));
}

async function untilDone<T>(batchId: string, activity: string, run: () => Promise<T>): Promise<T> {
  let flagged = false;
  for (;;) {
    try {
      const result = await run();
      if (flagged) upsertSearchAttributes([{ key: BatchStatusKey, value: 'RUNNING' }]);
      return result;
    } catch (error) {
      const failure = finalFailureOf(error);
      if (!failure || !patched(batch_needs_attention_patch)) throw error;
      if (!flagged) upsertSearchAttributes([{ key: BatchStatusKey, value: 'NEEDS_ATTENTION' }]);
      flagged = true;
      log.error('batch needs attention: a step failed in a way no retry can fix; it runs again later', {
        batchId,
        activity,
        failure: failure.type,
        retryInMs: attention_retry_ms,
      });
      setCurrentDetails(
        `NEEDS_ATTENTION: ${activity} failed (${failure.type}); tried again every ${attention_retry_ms / 60_000} min`,
      );
      await sleep(attention_retry_ms);
    }
  }
}
