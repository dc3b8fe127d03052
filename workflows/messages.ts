import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FailureReason, TransferStatus } from '../domain/transfers';

/**
 * What an operator sends to act on a transfer. The same JSON works from the Web UI ("Send a
 * Signal"), the CLI (`temporal workflow signal --name reverse --input '{...}'`) and, as an update,
 * from the HTTP API. `token` is an action token (`npm run token -- --ops NAME --approve ID`, or
 * `POST /v1/ops/transfers/{id}/action-tokens`): signed proof of who sends which action on which
 * transfer. The workflow trusts nothing else in the payload about who sent it.
 */
export interface OpsRequest {
  token: string;
  reason: string;
}

export interface ReverseRequest extends OpsRequest {
  /** Take the money back even when the recipient cannot cover it (their balance goes negative); the token must allow it. */
  allow_negative?: boolean;
}

/**
 * The payload before action tokens: the operator as typed. Histories recorded before the
 * `ops-action-tokens` patch replay it; on a run past the patch it is refused (action_token_required).
 */
export interface TypedOpsRequest {
  operator: string;
  reason: string;
  allow_negative?: boolean;
}

export type ReviewAnswer = {
  status: TransferStatus;
  failure_reason: FailureReason | null;
  approvals: number;
  approvals_required: number;
};

export type ReverseAnswer =
  | { outcome: 'reversed' | 'already_reversed' }
  | { outcome: 'refused'; refusal: 'insufficient_funds' }
  | { outcome: 'window_closed' };

export const reverseSignal = defineSignal<[ReverseRequest]>('reverse');
export const approveSignal = defineSignal<[OpsRequest]>('approve');
export const rejectSignal = defineSignal<[OpsRequest]>('reject');
/** Runs a step that failed for good again, once its cause is fixed (a transfer in NEEDS_ATTENTION). */
export const retrySignal = defineSignal<[OpsRequest]>('retry');

/** Updates with validators: the caller learns at once whether its request was accepted, and its result. */
export const reverseUpdate = defineUpdate<ReverseAnswer, [ReverseRequest]>('reverse');
export const approveUpdate = defineUpdate<ReviewAnswer, [OpsRequest]>('approve');
export const rejectUpdate = defineUpdate<ReviewAnswer, [OpsRequest]>('reject');
/** Answers once the step ran again: the transfer's status then (NEEDS_ATTENTION again if it failed again). */
export const retryUpdate = defineUpdate<RetryAnswer, [OpsRequest]>('retry');

export type RetryAnswer = { status: TransferStatus; step: TransferState['step'] };

export interface OpsStamp {
  operator: string;
  reason: string;
  at: string;
}

export interface TransferState {
  status: TransferStatus;
  /** Which step the workflow is on; useful to ops when a transfer is slow. */
  step:
    | 'awaiting_review'
    | 'debiting'
    | 'fencing'
    | 'crediting'
    | 'compensating'
    | 'reversal_window'
    | 'reversing'
    | 'done';
  failureReason: FailureReason | null;
  /** True once the debit was refunded after a refused credit. */
  compensated: boolean;
  /** Present when the transfer was held for review. */
  review: { approvalsRequired: number; approvals: OpsStamp[]; rejection: OpsStamp | null; deadline: string } | null;
  /** Until when a `reverse` is accepted (null: no window, or not completed). */
  reversalDeadline: string | null;
  reversal: (OpsStamp & { allowNegative: boolean }) | null;
  /** Reversals refused because the recipient could not cover them. */
  reversalRefusals: (OpsStamp & { refusal: string })[];
  /**
   * Present while the transfer is NEEDS_ATTENTION: the step that failed for good (`step` says
   * which), its failure type, SQLSTATE and constraint, and since when. Ops fix the cause, then
   * send `retry`. `retries` counts the retries ops sent so far.
   */
  attention?: Attention | null;
  /** Signals that could not be acted on (bad input, wrong state), newest last; bounded. */
  ignoredSignals: { name: string; why: string; at: string }[];
}

export const statusQuery = defineQuery<TransferState>('status');

/** Why a transfer needs attention: what no retry of its step could fix. */
export interface Attention {
  step: TransferState['step'];
  /** The ledger activity that failed: creditWallet, refundDebit, reverseTransfer, recordReviewDecision... */
  activity: string;
  /** The status the transfer had before, restored when a retry succeeds. */
  statusBefore: TransferStatus;
  failure: string;
  sqlState: string | null;
  constraint: string | null;
  since: string;
  retries: number;
}
