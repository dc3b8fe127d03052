/** A transfer's legs: what each one moves and how the one that decides the transfer finishes it. Pure. */
import type { Payload } from './payload';
import type { Conversion, FailureReason, Transfer, TransferKind } from './transfers';

/** The system account on the other side of a leg: clearing (peer-to-peer), settlement (pay-in, pay-out) or fx (a conversion). */
type Counterparty = 'clearing' | 'settlement' | 'fx';

/**
 * Finishing a transfer: the leg that decides it also ends the transfer's durable record (SQL
 * `finish_transfer`). When the owner's record is on the leg's shard it finishes in the leg's own
 * transaction; otherwise right after, in the same activity.
 */
export interface TransferFinish {
  ownerUserId: string;
  /** For metrics only (wallet_transfers_finished_total's kind label). */
  kind?: TransferKind;
  /** The record's final state when the leg posts. */
  ifPosted?: { status: 'COMPLETED' | 'FAILED'; failureReason: FailureReason | null };
  /** A refusal of the leg ends the transfer as FAILED with the refusal's reason. */
  ifRefused?: boolean;
}

/** One leg of a transfer on one user's wallet; every leg activity takes one (as a `LegInput`). */
export interface TransferLeg {
  transferId: string;
  userId: string;
  amountMinor: bigint;
  currency: string;
  counterparty: Counterparty;
  /** A converting transfer's conversion: the credit writes it on the recipient's shard for history there. */
  conversion?: Conversion;
  /** Debits of transfers and withdrawals: the default rolling 24-hour outgoing limit (null: none). */
  dailyOutgoingMaxMinor?: bigint | null;
  /** Present when this leg can decide the transfer: its owner's record is finished with the leg. */
  finish?: TransferFinish;
}

/** A leg as its activity receives it (the wire shape): amounts are decimal strings. */
export type LegInput = Payload<TransferLeg>;

/** What one side of a transfer moves, and against which system account. */
export type LegMoney = Pick<TransferLeg, 'amountMinor' | 'currency' | 'counterparty' | 'conversion'>;

/**
 * What each side of a transfer moves: the sender's side the source amount, the recipient's the
 * target amount (the same unless the transfer converts, and then through the FX house instead of
 * clearing). The workflow's legs and an operator's reversal both move these.
 */
export function sidesOf(transfer: Pick<Transfer, 'kind' | 'amountMinor' | 'currency' | 'conversion'>): {
  source: LegMoney;
  target: LegMoney;
} {
  const conversion = transfer.conversion;
  if (!conversion) {
    const money: LegMoney = {
      amountMinor: transfer.amountMinor,
      currency: transfer.currency,
      counterparty: transfer.kind === 'transfer' ? 'clearing' : 'settlement',
    };
    return { source: money, target: money };
  }
  const whole = { sourceCurrency: transfer.currency, sourceAmountMinor: transfer.amountMinor, ...conversion };
  return {
    source: { amountMinor: transfer.amountMinor, currency: transfer.currency, counterparty: 'fx', conversion: whole },
    target: {
      amountMinor: conversion.targetAmountMinor,
      currency: conversion.targetCurrency,
      counterparty: 'fx',
      conversion: whole,
    },
  };
}
