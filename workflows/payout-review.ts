import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { PayoutActivities } from '../activities/payouts';
import { operatorIdentity } from '../domain/operators';
import type { OpsRequest } from './messages';
import {
  approvePayoutSignal,
  approvePayoutUpdate,
  rejectPayoutSignal,
  rejectPayoutUpdate,
  type PayoutState,
  type ReviewAnswer,
} from './payout-messages';

/** Who holds the payout for review, fixed when the API accepted it (its record): never recomputed. */
export interface PayoutReviewPolicy {
  /** 1: one operator approves; 2: two different ones (at or over FOUR_EYES_THRESHOLD_MINOR). */
  approvalsRequired: 1 | 2;
  /** The payout's owner and the operator who made it (if one did): they may not approve it. */
  excluded: string[];
  timeoutMs: number;
}

type Decision = { name: 'approve' | 'reject'; operator: string; reason: string; via: 'signal' | 'update' };

/**
 * A payout at or over the review threshold waits here, before anything is held, as a transfer
 * does (PENDING_REVIEW): `approve` (two different operators for four eyes) lets it go on to the
 * hold, `reject` or the review timeout ends it FAILED. Each decision carries an action token for
 * its action on this payout, verified by an activity, and is recorded (audited) before it counts.
 */
export async function holdForReview(
  state: PayoutState,
  target: { payoutId: string; userId: string },
  steps: PayoutActivities,
  policy: PayoutReviewPolicy,
): Promise<'approved' | 'review_rejected' | 'review_timeout' | 'canceled'> {
  const approvals: string[] = [];
  let rejected = false;
  let deciding = false;
  const excluded = policy.excluded.map(operatorIdOf);
  const decide = async (request: OpsRequest, name: Decision['name'], via: Decision['via']): Promise<ReviewAnswer> => {
    await condition(() => !deciding);
    deciding = true;
    try {
      if (state.status !== 'PENDING_REVIEW') throw refusal('payout_not_in_review', `the payout is ${state.status}`);
      const verdict = await steps.verifyPayoutToken({
        token: request.token,
        action: name,
        transferId: target.payoutId,
      });
      if (!verdict.ok) throw refusal(verdict.refusal, verdict.message);
      if (name === 'approve' && excluded.includes(verdict.operator))
        throw refusal('approver_not_independent', 'the owner or the operator who made the payout may not approve it');
      if (name === 'approve' && approvals.includes(verdict.operator))
        throw refusal('second_approver_required', 'a second, different operator must approve');
      const releases = name === 'approve' && approvals.length + 1 >= policy.approvalsRequired;
      await steps.recordPayoutReview({
        ...target,
        decision: name,
        operator: verdict.operator,
        reason: request.reason,
        via,
        releases,
      });
      if (name === 'reject') rejected = true;
      else approvals.push(verdict.operator);
      return {
        status: rejected ? 'FAILED' : releases ? 'ACCEPTED' : 'PENDING_REVIEW',
        approvals: approvals.length,
        approvals_required: policy.approvalsRequired,
      };
    } finally {
      deciding = false;
    }
  };
  reviewHandlers(state, decide);
  const decided = await condition(
    () => !deciding && (rejected || approvals.length >= policy.approvalsRequired || state.status === 'CANCELED'),
    Math.max(1, policy.timeoutMs),
  );
  if (state.status === 'CANCELED') return 'canceled';
  if (rejected) return 'review_rejected';
  if (decided) return 'approved';
  await steps.expirePayoutReview(target);
  return 'review_timeout';
}

/** approve and reject, as updates (the validator refuses at once) and as signals (a refusal is kept in ignoredSignals). */
function reviewHandlers(
  state: PayoutState,
  decide: (request: OpsRequest, name: Decision['name'], via: Decision['via']) => Promise<ReviewAnswer>,
): void {
  for (const [name, signal, update] of [
    ['approve', approvePayoutSignal, approvePayoutUpdate],
    ['reject', rejectPayoutSignal, rejectPayoutUpdate],
  ] as const) {
    setHandler(update, (request) => decide(request, name, 'update'), {
      validator: (request: unknown) => {
        if (!isRequest(request)) throw refusal('invalid_request', 'send {"token", "reason"}');
        if (state.status !== 'PENDING_REVIEW') throw refusal('payout_not_in_review', `the payout is ${state.status}`);
      },
    });
    setHandler(signal, (request: unknown) => {
      if (!isRequest(request)) return ignore(state, name, 'send {"token", "reason"}');
      return decide(request, name, 'signal').then(
        () => undefined,
        (error: unknown) => ignore(state, name, (error as Error).message),
      );
    });
  }
}

/** A party or the maker as an operator identity, so an approval by the same person under another spelling is caught. */
function operatorIdOf(id: string): string {
  const identity = operatorIdentity(id);
  return identity.ok ? identity.operator : id;
}

/** An operator's request as the signal and update payloads carry it. */
export function isRequest(request: unknown): request is OpsRequest {
  const { token, reason } = (request ?? {}) as Partial<OpsRequest>;
  return typeof token === 'string' && typeof reason === 'string' && reason.trim() !== '' && reason.length <= 500;
}

function refusal(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

const ignored_signals_kept_max = 20;

/** A signal that could not be acted on: kept in the status query's ignoredSignals, bounded. */
export function ignore(state: PayoutState, name: string, why: string): void {
  state.ignoredSignals.push({ name, why, at: new Date().toISOString() });
  if (state.ignoredSignals.length > ignored_signals_kept_max) state.ignoredSignals.shift();
}
