import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { formatMinor } from '../domain/money';
import { toPayload } from '../domain/payload';
import type { TransferLimits } from '../domain/transfer-policy';
import type { PayoutRecord } from '../ledger/payouts';
import { payoutWorkflow, type PayoutRun, type PayoutTimings } from '../workflows/payout';
import { AmountMinorKey, CurrencyKey, FromUserKey, PayoutStatusKey } from '../workflows/search-attributes';

export interface PayoutStarterDependencies {
  client: Client;
  taskQueue: string;
  timings: PayoutTimings;
  limits: TransferLimits;
  /** REVIEW_TIMEOUT: a payout held for review nobody decided on fails after this. */
  reviewTimeoutMs: number;
}

/**
 * Starts a recorded payout's workflow, the payout id as workflow id: a running one is joined (a
 * retried POST) and a finished one is never run again. The input carries the bank account's id,
 * never its number; the search attributes carry the status, owner, amount and currency only.
 */
export async function startPayoutWorkflow(deps: PayoutStarterDependencies, record: PayoutRecord): Promise<void> {
  const { payoutId, userId, bankAccountId, amountMinor, currency } = record;
  const run: PayoutRun = {
    payout: { payoutId, userId, bankAccountId, amountMinor, currency },
    timings: deps.timings,
    dailyOutgoingMaxMinor: deps.limits.dailyOutgoingMaxMinor,
    // A record still PENDING_REVIEW waits for the rule fixed on it when it was accepted; a record
    // from before that column (0 while in review) is held as it was: four eyes from today's threshold.
    ...(record.status === 'PENDING_REVIEW'
      ? {
          review: {
            approvalsRequired: record.approvalsRequired || (amountMinor >= deps.limits.fourEyesThresholdMinor ? 2 : 1),
            excluded: [userId, ...(record.initiatedBy ? [record.initiatedBy] : [])],
            timeoutMs: deps.reviewTimeoutMs,
          },
        }
      : {}),
  };
  try {
    await deps.client.workflow.start(payoutWorkflow, {
      workflowId: payoutId,
      taskQueue: deps.taskQueue,
      args: [toPayload(run)],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [
        { key: PayoutStatusKey, value: record.status },
        { key: FromUserKey, value: userId },
        { key: AmountMinorKey, value: Number(amountMinor) },
        { key: CurrencyKey, value: currency },
      ],
      staticSummary: `payout ${userId} -> bank ${formatMinor(amountMinor, currency)} ${currency}`,
      staticDetails: [
        `Payout \`${payoutId}\` of ${formatMinor(amountMinor, currency)} ${currency} from ${userId} to bank account \`${bankAccountId}\`.`,
        'Ops cancel it before a cutoff takes it with the signal `cancel` `{"token","reason"}` (token: `npm run token -- --ops NAME --cancel ' +
          payoutId +
          '`). The `status` query shows its state.',
      ].join('\n\n'),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
