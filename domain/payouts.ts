/** Pure payout vocabulary, safe to import from workflow code (no Node built-ins). */
import { payout_entry_sequences } from './entry-sequences';
import type { FailureReason } from './transfers';

/**
 * A payout's statuses, in the order it passes them (docs/rails.md, "The payout lifecycle"):
 * ACCEPTED (recorded, nothing held yet) -> PENDING_REVIEW (at or over the review threshold) ->
 * HELD (its amount reserved) -> BATCHED (a cutoff put it in a file) -> SUBMITTED (the bank has the
 * file) -> SETTLED (the money left; a return may still come until return_window_ends_at) ->
 * RETURNED. CANCELED (by ops before its file was built) and FAILED (the hold was refused) end it
 * with nothing sent.
 */
export const payout_statuses = [
  'ACCEPTED',
  'PENDING_REVIEW',
  'HELD',
  'BATCHED',
  'SUBMITTED',
  'SETTLED',
  'RETURNED',
  'CANCELED',
  'FAILED',
] as const;
export type PayoutStatus = (typeof payout_statuses)[number];

/** No money moves for a payout in these any more (SETTLED is not among them: a return may come). */
export const payout_final_statuses: readonly PayoutStatus[] = ['RETURNED', 'CANCELED', 'FAILED'];
/** Before these the money is still the wallet's to give back; from BATCHED on, the file has it. */
export const payout_cancelable_statuses: readonly PayoutStatus[] = ['ACCEPTED', 'PENDING_REVIEW', 'HELD'];

/**
 * Why a payout ended FAILED: the hold's refusals (a transfer's debit's: insufficient_funds,
 * limit_exceeded, user_frozen, wallet_closed, unknown_user), a review that rejected it or ran out
 * of time, or `file_refused`: the bank refused the file it was in, and its hold was given back.
 */
export const payout_failure_reasons = [
  'insufficient_funds',
  'unknown_user',
  'user_frozen',
  'limit_exceeded',
  'wallet_closed',
  'review_rejected',
  'review_timeout',
  'file_refused',
] as const;
export type PayoutFailureReason = (typeof payout_failure_reasons)[number];

export function payoutFailureOf(reason: FailureReason): PayoutFailureReason {
  return (payout_failure_reasons as readonly string[]).includes(reason)
    ? (reason as PayoutFailureReason)
    : // ledger_unavailable cannot come out of a hold (it never gives up); anything else is a bug.
      'insufficient_funds';
}

/** A payout as it is asked for and carried: the workflow has the bank account's id, never its number. */
export interface Payout {
  payoutId: string;
  userId: string;
  bankAccountId: string;
  amountMinor: bigint;
  currency: string;
}

/** `po_` and 32 hex digits: never a transfer id, since both key postings in the same ledger. */
export const payout_id_pattern = /^po_[0-9a-f]{32}$/;

/** The most entries one payout file carries; more wait for the next cutoff. */
export const payout_file_entries_max = 10_000;

/**
 * Payouts' trace numbers carry the entry counter within its range of the seven digits
 * (domain/entry-sequences.ts): it wraps at nine million. A file never spans the wrap (moov
 * refuses trace numbers that do not ascend): it ends at it, and the next file starts at 0 again
 * (docs/rails.md, "ACH files the wallet writes").
 */
const entry_sequence_modulus = payout_entry_sequences;

/** How many entries the file starting at `firstEntrySequence` may hold before the counter wraps. */
export function entriesBeforeWrap(firstEntrySequence: number): number {
  return entry_sequence_modulus - (firstEntrySequence % entry_sequence_modulus);
}

/**
 * The names of the messages a payout's workflow takes (workflows/payout-messages.ts defines them;
 * the activities that signal from the cutoff and the bank's feed send them by these names).
 */
export const payout_signal_names = {
  batched: 'payoutBatched',
  submitted: 'payoutSubmitted',
  settled: 'payoutSettled',
  returned: 'payoutReturned',
  fileRefused: 'payoutFileRefused',
} as const;

export interface PayoutFiledSignal {
  fileSequence: number;
  traceNumber: string;
}

export interface PayoutReturnedSignal {
  returnCode: string;
  returnTraceNumber: string;
}
