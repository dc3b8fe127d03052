import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import {
  payout_signal_names,
  type PayoutFailureReason,
  type PayoutFiledSignal,
  type PayoutReturnedSignal,
  type PayoutStatus,
} from '../domain/payouts';
import type { OpsRequest } from './messages';

/**
 * What a payout's workflow hears. From the wallet's own cutoff and bank-feed workflows (by
 * activities, names in domain/payouts.ts): its file was recorded (batched) and uploaded
 * (submitted), its entry settled, the bank returned it, or refused its file. From operators:
 * `cancel`, as a signal (Web UI, CLI: `{"token","reason"}`, the token from
 * `npm run token -- --ops NAME --cancel po_...`) or an update (POST /v1/ops/payouts/{id}/cancel).
 */
export const payoutBatchedSignal = defineSignal<[PayoutFiledSignal]>(payout_signal_names.batched);
export const payoutSubmittedSignal = defineSignal<[PayoutFiledSignal]>(payout_signal_names.submitted);
export const payoutSettledSignal = defineSignal<[]>(payout_signal_names.settled);
export const payoutReturnedSignal = defineSignal<[PayoutReturnedSignal]>(payout_signal_names.returned);
export const payoutFileRefusedSignal = defineSignal<[]>(payout_signal_names.fileRefused);

export const cancelPayoutSignal = defineSignal<[OpsRequest]>('cancel');
export const cancelPayoutUpdate = defineUpdate<CancelAnswer, [OpsRequest]>('cancel');

export const approvePayoutSignal = defineSignal<[OpsRequest]>('approve');
export const rejectPayoutSignal = defineSignal<[OpsRequest]>('reject');
export const approvePayoutUpdate = defineUpdate<ReviewAnswer, [OpsRequest]>('approve');
export const rejectPayoutUpdate = defineUpdate<ReviewAnswer, [OpsRequest]>('reject');

/** Where a review stands after a decision: ACCEPTED once released (the hold comes next), FAILED once rejected. */
export interface ReviewAnswer {
  status: PayoutStatus;
  approvals: number;
  approvals_required: number;
}

export interface CancelAnswer {
  status: PayoutStatus;
}

export interface PayoutState {
  status: PayoutStatus;
  failureReason: PayoutFailureReason | null;
  returnCode: string | null;
  fileSequence: number | null;
  traceNumber: string | null;
  /** Until when a return is taken (set when the payout settled). */
  returnWindowEndsAt: string | null;
  canceledBy: { operator: string; reason: string; at: string } | null;
  /** Signals that could not be acted on (bad input, wrong state), newest last; bounded. */
  ignoredSignals: { name: string; why: string; at: string }[];
}

export const payoutStatusQuery = defineQuery<PayoutState>('status');
