import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { formatMinor } from '../domain/money';
import { toPayload } from '../domain/payload';
import type { TransferLimits } from '../domain/transfer-policy';
import type { BatchRecord } from '../ledger/transfer-batches';
import type { TransferTimings } from '../workflows/activity-options';
import { transferBatchWorkflow, type TransferBatchRun } from '../workflows/transfer-batch';

export interface BatchStarterDependencies {
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
}

/**
 * Starts a recorded batch's workflow, with the batch id as workflow id; a running one is joined
 * (a retried POST), a finished one is never run again.
 */
export async function startTransferBatchWorkflow(deps: BatchStarterDependencies, batch: BatchRecord): Promise<void> {
  const run: TransferBatchRun = {
    batchId: batch.batchId,
    payerUserId: batch.payerUserId,
    itemCount: batch.itemCount,
    rules: { limits: deps.limits, timings: deps.timings },
  };
  try {
    await deps.client.workflow.start(transferBatchWorkflow, {
      workflowId: batch.batchId,
      taskQueue: deps.taskQueue,
      args: [toPayload(run)],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `batch of ${batch.itemCount} from ${batch.payerUserId}, ${formatMinor(batch.totalMinor, batch.currency)} ${batch.currency}`,
      staticDetails: [
        `Batch \`${batch.batchId}\`: ${batch.itemCount} transfers from ${batch.payerUserId}.`,
        'Each item is a transfer workflow of its own, its workflow id the item\'s `transfer_id` (GET /v1/wallet/transfer-batches/{id} lists them); filter them with `FromUser = "' +
          batch.payerUserId +
          '"`.',
      ].join('\n\n'),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
