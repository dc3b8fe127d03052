/** Pure transfer vocabulary, safe to import from workflow code (no Node built-ins). */
import type { Payload } from './payload';

export const transfer_kinds = ['transfer', 'deposit', 'withdrawal'] as const;
export type TransferKind = (typeof transfer_kinds)[number];

/**
 * NEEDS_ATTENTION is the workflow's status only (its search attribute and status query): a step
 * failed in a way no retry can fix and waits for ops. The ledger's record keeps the status of
 * the last committed leg, which is where the money is.
 */
export const transfer_statuses = [
  'PENDING',
  'PENDING_REVIEW',
  'COMPLETED',
  'FAILED',
  'REVERSED',
  'NEEDS_ATTENTION',
] as const;
export type TransferStatus = (typeof transfer_statuses)[number];

export const final_statuses: readonly TransferStatus[] = ['COMPLETED', 'FAILED', 'REVERSED'];

/**
 * The complete list of reasons a transfer can be refused. Clients can switch on every one.
 * ledger_unavailable: the source shard could not be reached for the whole debit retry budget
 * (or stayed busy for DEBIT_BUSY_WAIT_MAX), so the debit was fenced off and nothing moved.
 * limit_exceeded: the debit would pass the sender's rolling 24-hour outgoing limit.
 * wallet_closed: the wallet was closed by ops; it takes no new money (a debit refunds).
 * review_rejected / review_timeout: a transfer held for review was rejected, or nobody decided in time.
 */
export const failure_reasons = [
  'insufficient_funds',
  'unknown_user',
  'user_frozen',
  'ledger_unavailable',
  'limit_exceeded',
  'wallet_closed',
  'review_rejected',
  'review_timeout',
] as const;
export type FailureReason = (typeof failure_reasons)[number];

export function isFailureReason(value: string): value is FailureReason {
  return (failure_reasons as readonly string[]).includes(value);
}

/**
 * One transfer, from the API to the leg: what was asked for, with its id. Amounts are bigint
 * minor units; the layers that need less take a Pick of it, the record adds its own fields, and
 * the workflow carries it as `TransferRequest` (payload.ts encodes it).
 */
export interface Transfer {
  transferId: string;
  kind: TransferKind;
  /** Null for deposits: the money comes from the currency's external settlement account. */
  fromUserId: string | null;
  /** Null for withdrawals: the money leaves to the settlement account. */
  toUserId: string | null;
  amountMinor: bigint;
  currency: string;
  note: string | null;
  /**
   * Cross-currency transfers only: what the recipient gets, at the rate fixed when the transfer
   * was accepted (and recorded with it). The debit, a refund and a reversal's credit move
   * amountMinor of currency; the credit and a reversal's debit move targetAmountMinor of
   * targetCurrency. Both go through the FX house accounts instead of clearing.
   */
  conversion?: TransferConversion;
}

/** A conversion whole: both sides and the exact rate (units of targetCurrency per unit of sourceCurrency). */
export interface Conversion {
  sourceCurrency: string;
  sourceAmountMinor: bigint;
  targetCurrency: string;
  targetAmountMinor: bigint;
  /** Exact decimal text. */
  rate: string;
}

/** A transfer's conversion: its source side is the transfer's own amount and currency. */
type TransferConversion = Omit<Conversion, 'sourceCurrency' | 'sourceAmountMinor'>;

/** The transfer as the workflow's input carries it (the wire shape): amounts are decimal strings. */
export type TransferRequest = Payload<Transfer>;

/** The user whose shard keeps the transfer's durable record and whose key scope it is. */
export function ownerOf(transfer: Pick<Transfer, 'kind' | 'fromUserId' | 'toUserId'>): string {
  const owner = transfer.kind === 'deposit' ? transfer.toUserId : transfer.fromUserId;
  if (!owner) throw new Error(`transfer of kind ${transfer.kind} has no owner`);
  return owner;
}
