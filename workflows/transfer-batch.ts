import { continueAsNew, proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { BatchActivities, BatchChunk, BatchItemRules } from '../activities/transfer-batches';
import type { Payload } from '../domain/payload';
import type { TransferTimings } from './activity-options';
import { escalatingBatch } from './batch-attention';

/** What a batch's run is given; the items themselves are in the batch's record on the payer's shard. */
export interface TransferBatchRun {
  batchId: string;
  payerUserId: string;
  itemCount: number;
  rules: BatchItemRules<TransferTimings>;
  /** Items before this position were recorded and started by an earlier run (continue-as-new). */
  startedThrough?: number;
}

/** Items recorded and started by one activity: one round of inserts and starts on the payer's shard. */
const batch_chunk_items = 100;
/**
 * Items started and not yet final, at most: the next chunk starts only below this, so a batch
 * of a thousand does not put a thousand workflow tasks in front of every other transfer at once.
 */
const batch_items_in_flight_max = 200;
/** Polls of the items' records back off from the first interval to the last while nothing changes. */
const poll_first_ms = 250;
const poll_max_ms = 5_000;
/** Well under Temporal's 10,240-event warning: a batch waiting days on reviews continues as new. */
const history_events_max = 2_000;

/**
 * Registering a chunk (100 inserts and starts) takes well under a second; the activity
 * heartbeats per item, and retries until it is done: items accepted must start. An error no
 * retry can fix is final instead (activities/classify-failures.ts), and flags the batch
 * NEEDS_ATTENTION (workflows/batch-attention.ts) rather than spinning unseen.
 */
const batch_activity_options = {
  startToCloseTimeout: 120_000,
  heartbeatTimeout: 10_000,
  retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 2_147_483_647 },
};

/**
 * A batch: records and starts its items as ordinary transfer workflows (each keyed by its own
 * idempotency key, so an item already done as a single transfer or in an earlier batch is joined,
 * never done twice), a bounded number at a time, and follows them until every one is final.
 *
 * Why start-and-watch, not a parent with a thousand children (docs/performance.md, "Payroll"):
 * - an item's workflow id is its transfer id, which a single POST with the same key may have
 *   started already; a child start would then fail with "already started" (children cannot join
 *   an existing workflow), while the client's start joins it (USE_EXISTING);
 * - a completed transfer's workflow stays open for its reversal window, so a child's result is no
 *   signal that the item is final; the item's record is, and one query on the payer's shard
 *   counts them all;
 * - history and time: a probe parent starting 1,000 children of a transfer's input size had 3,217
 *   events and 2.26 MB, and took 68.5 s only to start them; here a chunk is one activity and a
 *   poll one activity and one timer, and a 1,000-item batch measured 159 events and 87 kB, all
 *   items final in 48.1 s (`npm run bench -- --mode payroll`, docs/performance.md).
 * The items are still linked for the Web UI: each is a workflow of its own, its id in the batch's
 * item list (GET /v1/wallet/transfer-batches/{id}) and its details naming the transfer.
 */
export async function transferBatchWorkflow(input: Payload<TransferBatchRun>): Promise<{ itemCount: number }> {
  // Ids and counts travel as they are; the rules (bigint limits) pass through to the activity encoded.
  const run = input;
  const batch = escalatingBatch(proxyActivities<BatchActivities>(batch_activity_options), run.batchId);
  const target = { batchId: run.batchId, payerUserId: run.payerUserId };
  let next = run.startedThrough ?? 0;
  let pollMs = poll_first_ms;
  let lastOpen = Number.POSITIVE_INFINITY;
  for (;;) {
    const open = await batch.openBatchItems(target);
    if (open === 0) break;
    const notStarted = run.itemCount - next;
    if (notStarted > 0 && open - notStarted < batch_items_in_flight_max) {
      const toPosition = Math.min(run.itemCount, next + batch_chunk_items);
      const chunk: Payload<BatchChunk> = { ...target, fromPosition: next, toPosition, rules: run.rules };
      await batch.startBatchItems(chunk);
      next = toPosition;
      continue;
    }
    setCurrentDetails(`${run.itemCount - open} of ${run.itemCount} items final; ${next} started`);
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > history_events_max)
      await continueAsNew<typeof transferBatchWorkflow>({ ...input, startedThrough: next });
    pollMs = open < lastOpen ? poll_first_ms : Math.min(pollMs * 2, poll_max_ms);
    lastOpen = open;
    await sleep(pollMs);
  }
  await batch.completeBatch(target);
  setCurrentDetails(`all ${run.itemCount} items final`);
  return { itemCount: run.itemCount };
}
