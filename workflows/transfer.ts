import {
  CancellationScope,
  allHandlersFinished,
  condition,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Reversal, WalletActivities } from '../activities';
import { formatMinor } from '../domain/money';
import { operatorIdentity } from '../domain/operators';
import { fromPayload, toPayload, type Payload } from '../domain/payload';
import type { LegInput } from '../domain/transfer-legs';
import type { TransferPolicy } from '../domain/transfer-policy';
import { ownerOf, type FailureReason, type Transfer, type TransferStatus } from '../domain/transfers';
import { debitWaitingWhileBusy } from './busy-debit';
import { debitOptions, mustFinishOptions, type TransferTimings } from './activity-options';
import { statusQuery, type OpsStamp, type TransferState } from './messages';
import { moveMoney } from './move-money';
import { escalating } from './needs-attention';
import { OpsInbox, reviewAnswerOf, type AcceptedRequest, type QueuedRequest } from './ops-inbox';
import { typedOperatorOf } from './ops-requests';
import { TransferStatusKey } from './search-attributes';

/** What a transfer's run is given; `request` is the transfer (the name the wire shape has always had). */
export interface TransferRun {
  request: Transfer;
  timings: TransferTimings;
  /** Review and limits, fixed by the API when it accepted the transfer (absent: none). */
  policy?: TransferPolicy;
}

/** The workflow's input as it travels (the wire shape): amounts are decimal strings. */
export type TransferWorkflowInput = Payload<TransferRun>;

export interface TransferOutcome {
  status: TransferStatus;
  failureReason: FailureReason | null;
}

/**
 * One transfer, exactly once: debit the sender, credit the recipient, and if the credit is
 * refused after the debit, refund the sender. Deposits only credit (from settlement);
 * withdrawals only debit (to settlement).
 *
 * Around the money movement, the operators' part: a transfer at or above the review threshold
 * first waits for approval (PENDING_REVIEW); a completed one stays open for the reversal window,
 * waiting for a `reverse`. The transfer is COMPLETED for its users the moment the money moved
 * (its record says so); the open window costs no worker resources, only a durable timer.
 *
 * Shape for speed: the legs are local activities and the workflow is started eagerly on the
 * worker that shares the API's process, so a transfer without review usually runs its money
 * movement in a single workflow task.
 */
export async function transferWorkflow(input: TransferWorkflowInput): Promise<TransferOutcome> {
  // Money may already be in flight: a cancellation request must not abandon a transfer half
  // way, so the whole body ignores it. (A terminated run is rerun by the orphan sweeper.)
  return CancellationScope.nonCancellable(() => runTransfer(fromPayload<TransferRun>(input)));
}

async function runTransfer({ request, timings, policy }: TransferRun): Promise<TransferOutcome> {
  const debiting = proxyLocalActivities<WalletActivities>(debitOptions(timings));
  const approvalsRequired = policy?.approvalsRequired ?? 0;
  const state: TransferState = {
    status: approvalsRequired > 0 ? 'PENDING_REVIEW' : 'PENDING',
    step: approvalsRequired > 0 ? 'awaiting_review' : 'debiting',
    failureReason: null,
    compensated: false,
    review:
      approvalsRequired > 0
        ? { approvalsRequired, approvals: [], rejection: null, deadline: deadlineIn(timings.reviewTimeoutMs ?? 0) }
        : null,
    reversalDeadline: null,
    reversal: null,
    reversalRefusals: [],
    ignoredSignals: [],
  };
  setHandler(statusQuery, () => state);
  // Four-eyes means independent eyes: not the transfer's parties, not the operator who made it.
  const excludedApprovers = [request.fromUserId, request.toUserId, policy?.initiatedBy ?? null]
    .filter((id): id is string => id !== null)
    .map(approverIdOf);
  // The requests' checks (a token's verification, a refusal's audit) try a few times, as the
  // debit does: one that cannot run refuses the request, it never holds the transfer.
  const target = { transferId: request.transferId, ownerUserId: ownerOf(request) };
  const inbox = new OpsInbox(state, target, debiting, excludedApprovers);
  // Must-finish steps: unbounded retries, and a failure no retry can fix waits in NEEDS_ATTENTION for ops.
  const finishing = escalating({
    ...target,
    state,
    inbox,
    finishing: proxyLocalActivities<WalletActivities>(mustFinishOptions(timings)),
    changeStatus: (status) => {
      changeStatus(state, status);
      describe(request, state);
    },
  });
  const ops = { request, state, inbox, finishing };

  if (state.review) {
    const decided = await holdForReview(ops, timings.reviewTimeoutMs ?? 0);
    if (decided === 'rejected' || decided === 'expired')
      return endRun(ops, 'FAILED', decided === 'rejected' ? 'review_rejected' : 'review_timeout');
    changeStatus(state, 'PENDING');
  }

  const debitWallet = (input: LegInput) => debitWaitingWhileBusy(debiting, input, timings);
  const failureReason = await moveMoney(request, policy, state, { debiting: { debitWallet }, finishing });
  changeStatus(state, failureReason === null ? 'COMPLETED' : 'FAILED', failureReason);
  const windowMs = timings.reversalWindowMs ?? 0;
  if (state.status === 'COMPLETED' && windowMs > 0) await awaitReversal(ops, windowMs);
  return endRun(ops, state.status, state.failureReason);
}

interface OpsContext {
  request: Transfer;
  state: TransferState;
  inbox: OpsInbox;
  finishing: WalletActivities;
}

/** Waits for approvals (two different operators for four-eyes) or a rejection, until the review deadline. */
async function holdForReview(
  { request, state, inbox, finishing }: OpsContext,
  timeoutMs: number,
): Promise<'approved' | 'rejected' | 'expired'> {
  const review = state.review!;
  const deadlineMs = Date.now() + timeoutMs;
  const held = { transferId: request.transferId, ownerUserId: ownerOf(request), kind: request.kind };
  describe(request, state);
  for (;;) {
    if (!(await condition(() => inbox.hasRequests, Math.max(1, deadlineMs - Date.now())))) {
      await finishing.expireReview(held);
      return 'expired';
    }
    const next = inbox.next()!;
    if (next.name === 'reverse' || next.name === 'retry') {
      answerOutOfTurn(state, next);
      continue;
    }
    const stamp = stampOf(next.request);
    // Checked again here: a request may have been valid when it was queued behind another.
    if (next.name === 'approve' && review.approvals.some((approval) => approval.operator === stamp.operator)) {
      next.answer?.(reviewAnswerOf(state));
      continue;
    }
    const releases = next.name === 'approve' && review.approvals.length + 1 >= review.approvalsRequired;
    await finishing.recordReviewDecision({
      ...held,
      decision: next.name,
      operator: stamp.operator,
      reason: stamp.reason,
      via: next.via,
      releases,
    });
    if (next.name === 'reject') {
      review.rejection = stamp;
      changeStatus(state, 'FAILED', 'review_rejected');
      next.answer?.(reviewAnswerOf(state));
      return 'rejected';
    }
    review.approvals.push(stamp);
    if (releases) {
      // The approver hears the outcome once the money moved (or failed to).
      answerWhenFinal(state, next);
      return 'approved';
    }
    next.answer?.(reviewAnswerOf(state));
    describe(request, state);
  }
}

/** Keeps the completed transfer open for the reversal window, reversing it when an operator asks. */
async function awaitReversal({ request, state, inbox, finishing }: OpsContext, windowMs: number): Promise<void> {
  const deadlineMs = Date.now() + windowMs;
  state.reversalDeadline = new Date(deadlineMs).toISOString();
  state.step = 'reversal_window';
  describe(request, state);
  while (
    state.status === 'COMPLETED' &&
    (await condition(() => inbox.hasRequests, Math.max(1, deadlineMs - Date.now())))
  ) {
    const next = inbox.next()!;
    if (next.name !== 'reverse') {
      answerOutOfTurn(state, next);
      continue;
    }
    const stamp = stampOf(next.request);
    const allowNegative = next.request.allowNegative;
    state.step = 'reversing';
    const { note: _note, ...reversed } = request;
    const reversal: Reversal = {
      ...reversed,
      ownerUserId: ownerOf(request),
      operator: stamp.operator,
      reason: stamp.reason,
      allowNegative,
      via: next.via,
      attempt: state.reversalRefusals.length + 1,
    };
    const result = await finishing.reverseTransfer(toPayload(reversal));
    if (result.outcome === 'reversed') {
      state.reversal = { ...stamp, allowNegative };
      changeStatus(state, 'REVERSED');
      next.answer?.({ outcome: 'reversed' });
    } else {
      state.reversalRefusals.push({ ...stamp, refusal: result.reason });
      state.step = 'reversal_window';
      next.answer?.({ outcome: 'refused', refusal: result.reason });
    }
    describe(request, state);
  }
  state.reversalDeadline = null;
}

/** Ends the run: the final status in the Web UI, every pending ops request answered. */
async function endRun(
  ops: OpsContext,
  status: TransferStatus,
  failureReason: FailureReason | null,
): Promise<TransferOutcome> {
  changeStatus(ops.state, status, failureReason);
  ops.state.step = 'done';
  describe(ops.request, ops.state);
  ops.inbox.closeAll();
  await condition(allHandlersFinished);
  return { status, failureReason };
}

/**
 * Every status change is mirrored in the TransferStatus search attribute, for the Web UI's
 * queries; the start set the first value, so only changes are written (each is a command).
 */
function changeStatus(
  state: TransferState,
  status: TransferStatus,
  failureReason: FailureReason | null = state.failureReason,
): void {
  state.failureReason = failureReason;
  if (state.status === status) return;
  state.status = status;
  upsertSearchAttributes([{ key: TransferStatusKey, value: status }]);
}

/** Answers the approval that released the money once the transfer is final (see endRun and the window). */
function answerWhenFinal(state: TransferState, request: QueuedRequest): void {
  if (request.name === 'reverse' || request.name === 'retry' || !request.answer) return;
  const answer = request.answer;
  void condition(() => state.status !== 'PENDING' && state.status !== 'PENDING_REVIEW').then(() =>
    answer(reviewAnswerOf(state)),
  );
}

/** The request's sender is already normalized (its token's identity, or a typed one in an old history). */
function stampOf(request: AcceptedRequest): OpsStamp {
  return { operator: request.operator, reason: request.reason.trim(), at: new Date().toISOString() };
}

/** A party or the maker as an operator identity (user ids always are one; a maker's sub normally is). */
function approverIdOf(id: string): string {
  const identity = operatorIdentity(id);
  return identity.ok ? identity.operator : typedOperatorOf(id);
}

/** A request the current wait does not act on (it was valid when it was queued): the state as it stands. */
function answerOutOfTurn(state: TransferState, request: QueuedRequest): void {
  if (request.name === 'reverse') request.answer?.({ outcome: 'window_closed' });
  else if (request.name === 'retry') request.answer?.({ status: state.status, step: state.step });
  else request.answer?.(reviewAnswerOf(state));
}

function deadlineIn(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** The workflow's current details in the Web UI: where it is and what ops can do now. */
function describe(request: Transfer, state: TransferState): void {
  const lines = [
    `**${state.status}** (${state.step})`,
    `${request.fromUserId ?? 'deposit'} → ${request.toUserId ?? 'withdrawal'}: ${formatMinor(request.amountMinor, request.currency)} ${request.currency}`,
  ];
  const conversion = request.conversion;
  if (conversion)
    lines.push(
      `Converted at ${conversion.rate}: ${formatMinor(conversion.targetAmountMinor, conversion.targetCurrency)} ${conversion.targetCurrency} to the recipient.`,
    );
  if (state.failureReason) lines.push(`Failure: ${state.failureReason}`);
  const attention = state.attention;
  if (attention && state.status === 'NEEDS_ATTENTION') {
    const sqlState = attention.sqlState
      ? ` (SQLSTATE ${attention.sqlState}${attention.constraint ? `, ${attention.constraint}` : ''})`
      : '';
    lines.push(
      `Step ${attention.step} (${attention.activity}) failed with ${attention.failure}${sqlState} since ${attention.since}; no retry can fix it. The money is where the last committed leg left it.`,
    );
    lines.push('Fix the cause, then send a signal `retry` with `{"operator": "...", "reason": "..."}`.');
  }
  if (state.review && state.status === 'PENDING_REVIEW') {
    lines.push(
      `Held for review until ${state.review.deadline}: ${state.review.approvals.length} of ${state.review.approvalsRequired} approvals.`,
    );
    lines.push(
      'Send a signal `approve` or `reject` with `{"token": "...", "reason": "..."}` (a token from `npm run token -- --ops NAME --approve ID`).',
    );
  }
  if (state.reversalDeadline && state.status === 'COMPLETED') {
    lines.push(
      `Reversible until ${state.reversalDeadline}: send a signal \`reverse\` with \`{"token": "...", "reason": "..."}\` (a token from \`npm run token -- --ops NAME --reverse ID\`).`,
    );
  }
  const lastRefusal = state.reversalRefusals.at(-1);
  if (lastRefusal && state.status === 'COMPLETED')
    lines.push(
      `Last reversal refused (${lastRefusal.refusal}); to force it, send a token issued with \`--allow-negative\` and \`"allow_negative": true\`.`,
    );
  if (state.reversal)
    lines.push(
      `Reversed by ${state.reversal.operator}: ${state.reversal.reason}${state.reversal.allowNegative ? ' (allow_negative)' : ''}`,
    );
  setCurrentDetails(lines.join('\n\n'));
}
