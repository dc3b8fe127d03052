import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PayoutActivities } from '../activities/payouts';
import { formatMinor } from '../domain/money';
import { fromPayload, type Payload } from '../domain/payload';
import {
  payout_cancelable_statuses,
  type Payout,
  type PayoutFailureReason,
  type PayoutReturnedSignal,
  type PayoutStatus,
} from '../domain/payouts';
import type { OpsRequest } from './messages';
import {
  cancelPayoutSignal,
  cancelPayoutUpdate,
  payoutBatchedSignal,
  payoutFileRefusedSignal,
  payoutReturnedSignal,
  payoutSettledSignal,
  payoutStatusQuery,
  payoutSubmittedSignal,
  type CancelAnswer,
  type PayoutState,
} from './payout-messages';
import { holdForReview, ignore, isRequest, type PayoutReviewPolicy } from './payout-review';
import { PayoutStatusKey } from './search-attributes';

/** Durations from the worker's configuration, through the input, so tests can shorten them. */
export interface PayoutTimings {
  activityTimeoutMs: number;
  retryIntervalMaxMs: number;
  /** PAYOUT_RETURN_WINDOW: how long a settled payout still takes a return. */
  returnWindowMs: number;
}

export interface PayoutRun {
  payout: Payout;
  timings: PayoutTimings;
  /** The limit the hold checks against the ledger (TransferLimits.dailyOutgoingMaxMinor). */
  dailyOutgoingMaxMinor: bigint;
  /** Present when the payout waits for review before anything is held (fixed on its record). */
  review?: PayoutReviewPolicy;
}

export interface PayoutOutcome {
  status: PayoutStatus;
  failureReason: PayoutFailureReason | null;
  returnCode: string | null;
}

/** Activities run on the owner's shard and retry without end once money is held: it must finish (the stuck list shows one that does not). */
const attempts_unlimited = 2_147_483_647;

/**
 * One payout, out and back (docs/rails.md, "The payout lifecycle"): hold its amount; wait for a
 * cutoff to put it in a file (BATCHED) and the file to reach the bank (SUBMITTED); when the bank
 * settles it, the held money leaves for the settlement account (SETTLED) and the workflow stays
 * open for the return window; a return before settlement gives the hold back, one after it
 * credits the wallet back (RETURNED, with the NACHA code). Ops can cancel it until a cutoff took
 * it. Every step's money is a ledger leg keyed by the payout id, so a rerun moves nothing twice.
 */
export async function payoutWorkflow(input: Payload<PayoutRun>): Promise<PayoutOutcome> {
  // Money may be held or in the bank's hands: a cancellation request must not abandon it.
  return CancellationScope.nonCancellable(() => runPayout(fromPayload<PayoutRun>(input)));
}

interface Heard {
  batched: { fileSequence: number; traceNumber: string } | null;
  submitted: boolean;
  settled: boolean;
  returned: PayoutReturnedSignal | null;
  fileRefused: boolean;
}

async function runPayout({ payout, timings, dailyOutgoingMaxMinor, review }: PayoutRun): Promise<PayoutOutcome> {
  const steps = proxyActivities<PayoutActivities>(payoutActivityOptions(timings));
  const state = initialState(review ? 'PENDING_REVIEW' : 'ACCEPTED');
  const heard: Heard = { batched: null, submitted: false, settled: false, returned: null, fileRefused: false };
  const target = { payoutId: payout.payoutId, userId: payout.userId };
  const changeStatus = (status: PayoutStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: PayoutStatusKey, value: status }]);
    setCurrentDetails(detailsOf(payout, state));
  };
  setHandler(payoutStatusQuery, () => state);
  listen(state, heard);
  const canceling = cancelHandlers(state, target, steps, changeStatus);
  if (review) {
    const decided = await holdForReview(state, target, steps, review);
    if (decided === 'canceled') return endRun(state);
    if (decided !== 'approved') {
      state.failureReason = decided;
      changeStatus('FAILED');
      return endRun(state);
    }
    changeStatus('ACCEPTED');
  }

  const held = await steps.holdPayout({ ...target, dailyOutgoingMaxMinor: dailyOutgoingMaxMinor.toString() });
  if (held.outcome === 'failed') {
    state.failureReason = held.reason;
    changeStatus('FAILED');
    return endRun(state);
  }
  // A cancel that came while the hold ran is taken now: the record is HELD, so it applies.
  if (state.status === 'ACCEPTED') changeStatus('HELD');
  await condition(
    () =>
      !canceling.busy &&
      (state.status === 'CANCELED' || heard.batched !== null || heard.submitted || heard.fileRefused),
  );
  if (state.status === 'CANCELED') return endRun(state);
  if (heard.batched) Object.assign(state, heard.batched);
  changeStatus('BATCHED');

  await condition(() => heard.submitted || heard.fileRefused || heard.settled || heard.returned !== null);
  if (heard.fileRefused) {
    await steps.failPayout({ ...target, reason: 'file_refused' });
    state.failureReason = 'file_refused';
    changeStatus('FAILED');
    return endRun(state);
  }
  await steps.markSubmitted(target);
  changeStatus('SUBMITTED');

  await condition(() => heard.settled || heard.returned !== null);
  if (heard.returned && !heard.settled) return returned(state, heard.returned, false, steps, target, changeStatus);
  const settled = await steps.settlePayout({ ...target, returnWindowMs: timings.returnWindowMs });
  state.returnWindowEndsAt = settled.returnWindowEndsAt;
  changeStatus('SETTLED');
  const windowLeftMs = Date.parse(settled.returnWindowEndsAt) - Date.now();
  if (await condition(() => heard.returned !== null, Math.max(1, windowLeftMs)))
    return returned(state, heard.returned!, true, steps, target, changeStatus);
  return endRun(state);
}

function payoutActivityOptions(timings: PayoutTimings) {
  return {
    startToCloseTimeout: timings.activityTimeoutMs,
    retry: {
      initialInterval: Math.min(200, timings.retryIntervalMaxMs),
      backoffCoefficient: 2,
      maximumInterval: timings.retryIntervalMaxMs,
      maximumAttempts: attempts_unlimited,
    },
  };
}

function initialState(status: PayoutStatus): PayoutState {
  return {
    status,
    failureReason: null,
    returnCode: null,
    fileSequence: null,
    traceNumber: null,
    returnWindowEndsAt: null,
    canceledBy: null,
    ignoredSignals: [],
  };
}

async function returned(
  state: PayoutState,
  signal: PayoutReturnedSignal,
  afterSettlement: boolean,
  steps: PayoutActivities,
  target: { payoutId: string; userId: string },
  changeStatus: (status: PayoutStatus) => void,
): Promise<PayoutOutcome> {
  await steps.returnPayout({ ...target, returnCode: signal.returnCode, afterSettlement });
  state.returnCode = signal.returnCode;
  changeStatus('RETURNED');
  return endRun(state);
}

/** The wallet's own signals set what was heard; the main flow takes them in its order. */
function listen(state: PayoutState, heard: Heard): void {
  setHandler(payoutBatchedSignal, (filed) => {
    heard.batched ??= filed;
  });
  setHandler(payoutSubmittedSignal, (filed) => {
    heard.batched ??= filed;
    heard.submitted = true;
  });
  setHandler(payoutSettledSignal, () => {
    heard.settled = true;
  });
  setHandler(payoutReturnedSignal, (signal) => {
    if (heard.returned !== null) return ignore(state, 'payoutReturned', 'a return was already taken');
    if (!/^R[0-9]{2}$/.test(String(signal?.returnCode)))
      return ignore(state, 'payoutReturned', 'the return code is not R and two digits');
    heard.returned = { returnCode: signal.returnCode, returnTraceNumber: String(signal.returnTraceNumber) };
  });
  setHandler(payoutFileRefusedSignal, () => {
    heard.fileRefused = true;
  });
}

/**
 * `cancel` as a signal or an update: only while the payout is not yet in a file. The update's
 * validator refuses at once (the caller gets the refusal); a signal that cannot apply is kept in
 * ignoredSignals. The operator is whom the request's action token names, verified by an
 * activity; the record's move (HELD -> CANCELED) races the cutoff's claim in the database, so
 * exactly one of them wins.
 */
function cancelHandlers(
  state: PayoutState,
  target: { payoutId: string; userId: string },
  steps: PayoutActivities,
  changeStatus: (status: PayoutStatus) => void,
) {
  const canceling = { busy: false };
  const cancel = async (request: OpsRequest, via: 'signal' | 'update'): Promise<CancelAnswer> => {
    await condition(() => !canceling.busy);
    canceling.busy = true;
    try {
      if (!payout_cancelable_statuses.includes(state.status)) throw notCancelable(state.status);
      const verdict = await steps.verifyPayoutToken({
        token: request.token,
        action: 'cancel',
        transferId: target.payoutId,
      });
      if (!verdict.ok)
        throw ApplicationFailure.create({ type: verdict.refusal, message: verdict.message, nonRetryable: true });
      const outcome = await steps.cancelPayout({ ...target, operator: verdict.operator, reason: request.reason, via });
      if (!outcome.canceled) throw notCancelable(outcome.status);
      state.canceledBy = { operator: verdict.operator, reason: request.reason, at: new Date().toISOString() };
      changeStatus('CANCELED');
      return { status: 'CANCELED' };
    } finally {
      canceling.busy = false;
    }
  };
  setHandler(cancelPayoutUpdate, (request) => cancel(request, 'update'), {
    validator: (request: unknown) => {
      if (!isRequest(request)) throw new Error('send {"token", "reason"}');
      if (!payout_cancelable_statuses.includes(state.status)) throw notCancelable(state.status);
    },
  });
  setHandler(cancelPayoutSignal, (request: unknown) => {
    if (!isRequest(request)) return ignore(state, 'cancel', 'send {"token", "reason"}');
    return cancel(request, 'signal').then(
      () => undefined,
      (error: unknown) => ignore(state, 'cancel', (error as Error).message),
    );
  });
  return canceling;
}

function notCancelable(status: PayoutStatus): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'payout_not_cancelable',
    message: `the payout is ${status}: only a payout not yet in a file can be canceled`,
    nonRetryable: true,
  });
}

async function endRun(state: PayoutState): Promise<PayoutOutcome> {
  await condition(allHandlersFinished);
  return { status: state.status, failureReason: state.failureReason, returnCode: state.returnCode };
}

function detailsOf(payout: Payout, state: PayoutState): string {
  const amount = `${formatMinor(payout.amountMinor, payout.currency)} ${payout.currency}`;
  const code = state.returnCode ? ` (${state.returnCode})` : state.failureReason ? ` (${state.failureReason})` : '';
  return `payout of ${amount} from ${payout.userId} to bank account ${payout.bankAccountId}: ${state.status}${code}`;
}
