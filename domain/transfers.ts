/** Pure transfer vocabulary, safe to import from workflow code (no Node built-ins). */
export const transfer_kinds = ['transfer', 'deposit', 'withdrawal'] as const;
export type TransferKind = (typeof transfer_kinds)[number];

export const transfer_statuses = ['PENDING', 'PENDING_REVIEW', 'COMPLETED', 'FAILED', 'REVERSED'] as const;
export type TransferStatus = (typeof transfer_statuses)[number];

export const final_statuses: readonly TransferStatus[] = ['COMPLETED', 'FAILED', 'REVERSED'];

/**
 * The complete list of reasons a transfer can be refused. Clients can switch on every one.
 * ledger_unavailable: the source shard could not be reached for the whole debit retry budget,
 * so the debit was fenced off and nothing moved.
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

/** The request a transfer workflow carries; amounts are decimal strings of minor units. */
export interface TransferRequest {
  transferId: string;
  kind: TransferKind;
  /** Null for deposits: the money comes from the currency's external settlement account. */
  fromUserId: string | null;
  /** Null for withdrawals: the money leaves to the settlement account. */
  toUserId: string | null;
  amountMinor: string;
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

export interface TransferConversion {
  targetCurrency: string;
  targetAmountMinor: string;
  /** Exact decimal text: units of targetCurrency per unit of currency. */
  rate: string;
}

/** The user whose shard keeps the transfer's durable record and whose key scope it is. */
export function ownerOf(request: Pick<TransferRequest, 'kind' | 'fromUserId' | 'toUserId'>): string {
  const owner = request.kind === 'deposit' ? request.toUserId : request.fromUserId;
  if (!owner) throw new Error(`transfer of kind ${request.kind} has no owner`);
  return owner;
}
