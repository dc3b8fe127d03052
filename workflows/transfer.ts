import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { FinishPlan, LegInput, WalletActivities } from '../activities';
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
 *
 * Shape for speed: the legs are local activities and the workflow is started eagerly on the
 * worker that shares the API's process, so a transfer usually runs in a single workflow task
 * (start, legs, completion) with no activity task or matching round trip through the engine.
 * The leg that decides the transfer also finishes its durable record, in the same transaction
 * when the record is on that leg's shard, so there is no separate finishing step.
 */
export async function transferWorkflow(input: TransferWorkflowInput): Promise<TransferOutcome> {
  // Money may already be in flight: a cancellation request must not abandon a transfer half
  // way, so the whole body ignores it. (A terminated run is rerun by the orphan sweeper.)
  return CancellationScope.nonCancellable(() => runTransfer(input));
}

async function runTransfer({ request, timings }: TransferWorkflowInput): Promise<TransferOutcome> {
  const debiting = proxyLocalActivities<WalletActivities>(debitOptions(timings));
  const finishing = proxyLocalActivities<WalletActivities>(mustFinishOptions(timings));
  const state: TransferState = { status: 'PENDING', step: 'debiting', failureReason: null, compensated: false };
  setHandler(statusQuery, () => state);

  const ownerUserId = ownerOf(request);
  const leg = (userId: string, finish: Omit<FinishPlan, 'ownerUserId'>): LegInput => ({
    transferId: request.transferId,
    userId,
    amountMinor: request.amountMinor,
    currency: request.currency,
    counterparty: request.kind === 'transfer' ? 'clearing' : 'settlement',
    finish: { ownerUserId, ...finish },
  });
  // Only after a refused credit: the debit is known to be posted then.
  const refund = async (fromUserId: string, failureReason: FailureReason) => {
    state.step = 'compensating';
    state.compensated = (await finishing.refundDebit({ ...leg(fromUserId, {}), failureReason })).refunded;
  };

  let failureReason: FailureReason | null = null;
  if (request.fromUserId !== null) {
    // A withdrawal ends with its debit; a transfer's debit ends it only when refused.
    const endsHere = request.toUserId === null ? { ifPosted: { status: 'COMPLETED' as const, failureReason: null } } : {};
    const debit = leg(request.fromUserId, { ...endsHere, ifRefused: true });
    const refused = await refusalOf(debiting.debitWallet(debit), 'ledger_unavailable');
    // A refusal was final and recorded with the leg. A debit whose fate is unknown (retries
    // exhausted, or fenced by an earlier run) is never refunded on a guess: the ledger fixes its
    // fate first, and a debit that did post carries the transfer on.
    if (refused && !refused.recorded) {
      state.step = 'fencing';
      const fenced = await finishing.fenceDebit(debit);
      failureReason = fenced.outcome === 'posted' ? null : (fenced.reason ?? 'ledger_unavailable');
    } else {
      failureReason = refused?.reason ?? null;
    }
  }
  if (failureReason === null && request.toUserId !== null) {
    state.step = 'crediting';
    // Only a business refusal ends a credit: anything else fails the run without refunding,
    // because the credit might still land; the run is then rerun, and every leg replays.
    const isDeposit = request.fromUserId === null;
    const refused = await refusalOf(
      finishing.creditWallet(leg(request.toUserId, { ifPosted: { status: 'COMPLETED', failureReason: null }, ifRefused: isDeposit })),
      null,
    );
    failureReason = refused?.reason ?? null;
    if (refused && request.fromUserId !== null) await refund(request.fromUserId, refused.reason);
  }

  const status: TransferStatus = failureReason === null ? 'COMPLETED' : 'FAILED';
  state.status = status;
  state.failureReason = failureReason;
  state.step = 'done';
  upsertSearchAttributes([{ key: TransferStatusKey, value: status }]);
  return { status, failureReason };
}

/**
 * Waits for a leg. A business refusal becomes its reason, `recorded` because the leg's own
 * transaction wrote it. Any other activity failure (retries exhausted) becomes `whenExhausted`,
 * or, when that is null, fails the run. Errors that are not activity failures are bugs and fail
 * the workflow task, to be retried after a fix.
 */
async function refusalOf(leg: Promise<unknown>, whenExhausted: FailureReason | null): Promise<{ reason: FailureReason; recorded: boolean } | null> {
  try {
    await leg;
    return null;
  } catch (error) {
    // A local activity's failure arrives unwrapped (the SDK does not always put it in an
    // ActivityFailure); errors that are no Temporal failure at all are bugs in this code.
    if (!(error instanceof TemporalFailure)) throw error;
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type && isFailureReason(cause.type)) {
      // A debit found fenced by an earlier run is not a decision of the ledger's rules.
      return { reason: cause.type, recorded: cause.type !== 'ledger_unavailable' };
    }
    if (whenExhausted === null) throw error;
    return { reason: whenExhausted, recorded: false };
  }
}
