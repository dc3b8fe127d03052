import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { formatMinor } from '../domain/money';
import { toPayload } from '../domain/payload';
import { policyFor, type TransferLimits } from '../domain/transfer-policy';
import type { Transfer } from '../domain/transfers';
import type { TransferRecord } from '../ledger/transfers';
import type { TransferTimings } from '../workflows/activity-options';
import { AmountMinorKey, CurrencyKey, FromUserKey, ToUserKey, TransferStatusKey } from '../workflows/search-attributes';
import { transferWorkflow, type TransferRun } from '../workflows/transfer';

export interface TransferStarterDependencies {
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
  /**
   * True when a worker for the task queue runs in this process on the client's own
   * NativeConnection: the engine then hands the first workflow task back in the start
   * response (eager start), skipping the matching round trip.
   */
  eagerStart?: boolean;
}

/** How a start went: started on this process's worker (eager), started through the task queue, or the workflow existed. */
export type StartOutcome = 'eager' | 'queued' | 'existing';

/**
 * Starts the workflow of a recorded transfer, with the transfer id as workflow id. Returns
 * 'existing' when it already existed: a running one is joined and a completed one is never run
 * again. A run that failed, was terminated or timed out may be run again: every leg is keyed by
 * (transfer id, leg) in the ledger, so a rerun replays what was posted and finishes the rest.
 */
export async function startTransferWorkflow(
  deps: TransferStarterDependencies,
  request: Transfer,
  /** From the transfer's record: never recomputed, so a rerun holds it exactly as the first run did. */
  hold: { approvalsRequired: 0 | 1 | 2; initiatedBy: string | null },
): Promise<StartOutcome> {
  const policy = { ...policyFor(request, deps.limits), ...hold };
  try {
    const handle = await deps.client.workflow.start(transferWorkflow, {
      workflowId: request.transferId,
      taskQueue: deps.taskQueue,
      args: [toPayload<TransferRun>({ request, timings: deps.timings, policy })],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      requestEagerStart: deps.eagerStart === true,
      typedSearchAttributes: [
        { key: TransferStatusKey, value: policy.approvalsRequired > 0 ? 'PENDING_REVIEW' : 'PENDING' },
        { key: FromUserKey, value: request.fromUserId ?? `settlement:${request.currency}` },
        { key: ToUserKey, value: request.toUserId ?? `settlement:${request.currency}` },
        { key: AmountMinorKey, value: Number(request.amountMinor) },
        { key: CurrencyKey, value: request.currency },
      ],
      staticSummary: summaryOf(request),
      staticDetails: detailsOf(request, policy.approvalsRequired),
    });
    return handle.eagerlyStarted ? 'eager' : 'queued';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'existing';
    // A start that raced with another request for the same transfer can fail in other ways
    // (for instance while the first run is closing); if the workflow exists, all is well.
    const exists = await deps.client.workflow
      .getHandle(request.transferId)
      .describe()
      .then(
        () => true,
        () => false,
      );
    if (!exists) throw error;
    return 'existing';
  }
}

/** "user_A -> user_B 50.00 USD" (and "-> 46.10 EUR" when it converts), shown in the Temporal Web UI. */
export function summaryOf(
  request: Pick<Transfer, 'kind' | 'fromUserId' | 'toUserId' | 'amountMinor' | 'currency' | 'conversion'>,
): string {
  const from = request.fromUserId ?? 'deposit';
  const to = request.toUserId ?? 'withdrawal';
  const target = request.conversion
    ? ` -> ${formatMinor(request.conversion.targetAmountMinor, request.conversion.targetCurrency)} ${request.conversion.targetCurrency}`
    : '';
  return `${from} -> ${to} ${formatMinor(request.amountMinor, request.currency)} ${request.currency}${target}`;
}

/** The workflow's fixed details in the Web UI: what the transfer is, and what ops can do with it. */
function detailsOf(request: Transfer, approvalsRequired: number): string {
  const lines = [
    `Transfer \`${request.transferId}\` (${request.kind})`,
    `From: ${request.fromUserId ?? 'settlement (deposit)'} · To: ${request.toUserId ?? 'settlement (withdrawal)'}`,
    `Amount: ${formatMinor(request.amountMinor, request.currency)} ${request.currency} (${request.amountMinor} minor units)`,
  ];
  const conversion = request.conversion;
  if (conversion) {
    lines.push(
      `Converts at ${conversion.rate} (fixed when accepted): the recipient gets ${formatMinor(conversion.targetAmountMinor, conversion.targetCurrency)} ${conversion.targetCurrency}`,
    );
  }
  if (approvalsRequired > 0)
    lines.push(
      `Held for review: ${approvalsRequired === 2 ? 'two different operators must' : 'an operator must'} approve (signal \`approve\`) or reject (signal \`reject\`).`,
    );
  lines.push('The `status` query shows the current step and the reversal deadline.');
  return lines.join('\n\n');
}

/**
 * How the run holds the transfer, from its record: a record still PENDING_REVIEW is held for
 * the approvals fixed when it was accepted; one already released (PENDING) is not held again.
 */
export function heldBy(record: TransferRecord): { approvalsRequired: 0 | 1 | 2; initiatedBy: string | null } {
  return {
    approvalsRequired: record.status === 'PENDING_REVIEW' ? record.approvalsRequired : 0,
    initiatedBy: record.initiatedBy,
  };
}

/**
 * The transfer a record holds: what the API accepted, with its fixed conversion. Exactly the
 * fields of Transfer, because it becomes the workflow's input and that wire shape must not grow.
 */
export function transferOf(record: TransferRecord): Transfer {
  const { transferId, kind, fromUserId, toUserId, amountMinor, currency, note, conversion } = record;
  const transfer = { transferId, kind, fromUserId, toUserId, amountMinor, currency, note };
  if (!conversion) return transfer;
  const { targetCurrency, targetAmountMinor, rate } = conversion;
  return { ...transfer, conversion: { targetCurrency, targetAmountMinor, rate } };
}
