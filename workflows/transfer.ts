import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { WalletActivities, LegInput } from '../activities';
import { isFailureReason, ownerOf, type FailureReason, type TransferRequest, type TransferStatus } from '../domain/transfers';
import { debitOptions, mustFinishOptions, type TransferTimings } from './activity-options';
import { statusQuery, type TransferState } from './messages';
import { TransferStatusKey } from './search-attributes';

export interface TransferWorkflowInput {
  request: TransferRequest;
  timings: TransferTimings;
}

export interface TransferOutcome {
  status: TransferStatus;
  failureReason: FailureReason | null;
}

/**
 * One transfer, exactly once: debit the sender, credit the recipient, and if the credit is
 * refused after the debit, refund the sender. Deposits only credit (from settlement);
 * withdrawals only debit (to settlement).
 */
export async function transferWorkflow(input: TransferWorkflowInput): Promise<TransferOutcome> {
  // Money may already be in flight: a cancellation request must not abandon a transfer half
  // way, so the whole body ignores it. (A terminated run is rerun by the orphan sweeper.)
  return CancellationScope.nonCancellable(() => runTransfer(input));
}

async function runTransfer({ request, timings }: TransferWorkflowInput): Promise<TransferOutcome> {
  const debiting = activitiesWith(debitOptions(timings));
  const finishing = activitiesWith(mustFinishOptions(timings));
  const state: TransferState = { status: 'PENDING', step: 'debiting', failureReason: null, compensated: false };
  setHandler(statusQuery, () => state);

  const leg = (userId: string): LegInput => ({
    transferId: request.transferId,
    userId,
    amountMinor: request.amountMinor,
    currency: request.currency,
    counterparty: request.kind === 'transfer' ? 'clearing' : 'settlement',
  });

  let failureReason: FailureReason | null = null;
  if (request.fromUserId !== null) {
    failureReason = await refusalOf(debiting.debitWallet(leg(request.fromUserId)), 'ledger_unavailable');
    if (failureReason !== null) {
      // The debit did not post, or its fate is unknown (retries exhausted): fence it, and
      // refund in the unlikely case an attempt did commit before the fence.
      state.step = 'compensating';
      state.compensated = (await finishing.refundDebit(leg(request.fromUserId))).refunded;
    }
  }
  if (failureReason === null && request.toUserId !== null) {
    state.step = 'crediting';
    // Only a business refusal ends a credit: anything else fails the run without refunding,
    // because the credit might still land; the run is then rerun, and every leg replays.
    failureReason = await refusalOf(finishing.creditWallet(leg(request.toUserId)), null);
    if (failureReason !== null && request.fromUserId !== null) {
      state.step = 'compensating';
      state.compensated = (await finishing.refundDebit(leg(request.fromUserId))).refunded;
    }
  }

  state.step = 'finishing';
  const status: TransferStatus = failureReason === null ? 'COMPLETED' : 'FAILED';
  await finishing.finishTransfer({ transferId: request.transferId, ownerUserId: ownerOf(request), status, failureReason });
  state.status = status;
  state.failureReason = failureReason;
  state.step = 'done';
  upsertSearchAttributes([{ key: TransferStatusKey, value: status }]);
  return { status, failureReason };
}

function activitiesWith(options: ActivityOptions) {
  return proxyActivities<WalletActivities>(options);
}

/**
 * Waits for a leg. A business refusal becomes its reason. Any other activity failure (retries
 * exhausted) becomes `whenExhausted`, or, when that is null, fails the run. Errors that are not
 * activity failures are bugs and fail the workflow task, to be retried after a fix.
 */
async function refusalOf(leg: Promise<unknown>, whenExhausted: FailureReason | null): Promise<FailureReason | null> {
  try {
    await leg;
    return null;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type && isFailureReason(cause.type)) {
      return cause.type;
    }
    if (whenExhausted === null) throw error;
    return whenExhausted;
  }
}
