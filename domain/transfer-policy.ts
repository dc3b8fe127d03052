/** Pure rules that decide, before a transfer starts, how it is checked; safe in workflow code. */
import type { Transfer } from './transfers';

export interface TransferLimits {
  /** At or above this amount a transfer or withdrawal waits for an operator's approval. */
  reviewThresholdMinor: bigint;
  /** At or above this amount two different operators must approve. */
  fourEyesThresholdMinor: bigint;
  /** The most one transfer or withdrawal may move; larger requests are refused up front. */
  transferAmountMaxMinor: bigint;
  /** The default rolling 24-hour outgoing limit per wallet (user and currency). */
  dailyOutgoingMaxMinor: bigint;
}

/** Fixed when the workflow starts and carried in its input (encoded by payload.ts), so every replay and rerun applies the same rules. */
export interface TransferPolicy {
  /** 0: no review; 1: one operator; 2: four eyes. */
  approvalsRequired: 0 | 1 | 2;
  /** The limit the debit checks against the ledger; null for deposits (ops pay-ins are exempt). */
  dailyOutgoingMaxMinor: bigint | null;
  /** The ops operator who made the request, if one did: they may not approve it. */
  initiatedBy?: string | null;
}

export function policyFor(request: Pick<Transfer, 'kind' | 'amountMinor'>, limits: TransferLimits): TransferPolicy {
  const amount = request.amountMinor;
  // Deposits are ops' own pay-ins: no review hold and no outgoing limit.
  const reviewed = request.kind !== 'deposit' && amount >= limits.reviewThresholdMinor;
  return {
    approvalsRequired: !reviewed ? 0 : amount >= limits.fourEyesThresholdMinor ? 2 : 1,
    dailyOutgoingMaxMinor: request.kind === 'deposit' ? null : limits.dailyOutgoingMaxMinor,
  };
}

/** True when the amount is over the per-transfer maximum (deposits are exempt). */
export function exceedsTransferMax(request: Pick<Transfer, 'kind' | 'amountMinor'>, limits: TransferLimits): boolean {
  return request.kind !== 'deposit' && request.amountMinor > limits.transferAmountMaxMinor;
}
