import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import type { FailureReason, TransferKind, TransferStatus } from '../domain/transfers';
import type { FinishHere } from '../ledger/postings';

/** What every leg activity needs; amounts are decimal strings of minor units in payloads. */
export interface LegInput {
  transferId: string;
  userId: string;
  amountMinor: string;
  currency: string;
  /** clearing for peer-to-peer transfers, settlement for deposits and withdrawals, fx for conversions. */
  counterparty: 'clearing' | 'settlement' | 'fx';
  /** A converting transfer's conversion: the credit writes it on the recipient's shard for history there. */
  conversion?: LegConversion;
  /** Debits of transfers and withdrawals: the default rolling 24-hour outgoing limit (null: none). */
  dailyOutgoingMaxMinor?: string | null;
  /** Present when this leg can decide the transfer: its owner's record is finished with the leg. */
  finish?: FinishPlan;
}

/** A conversion as legs carry it in payloads: amounts are decimal strings of minor units. */
export interface LegConversion {
  sourceCurrency: string;
  sourceAmountMinor: string;
  targetCurrency: string;
  targetAmountMinor: string;
  rate: string;
}

/**
 * How the transfer's durable record ends with a leg. When the owner's record is on the leg's
 * shard, it changes in the leg's own transaction; otherwise right after, in the same activity.
 */
export interface FinishPlan extends FinishHere {
  ownerUserId: string;
  /** For metrics only (wallet_transfers_finished_total's kind label). */
  kind?: TransferKind;
}

export interface RefundInput extends LegInput {
  /** Why the transfer failed; the owner's record ends FAILED with it. */
  failureReason: FailureReason;
}

/** Told when a transfer's record became final (or reversed), for metrics; never throws. */
export interface TransferEvents {
  finished(event: { transferId: string; kind?: string; status: TransferStatus; failureReason: string | null }): void;
}

/**
 * Where a leg tells its process that a transfer's record just became final. The composition root
 * hands in the channel the API's `?wait` listens on (temporal-client/transfer-completions.ts).
 */
export interface CompletionChannel {
  finished(transferId: string): void;
}

export interface ActivityDependencies {
  shards: ShardSet;
  logger: Logger;
  /** In-process news for `?wait` when the API shares this process; absent in a lone worker. */
  completions?: CompletionChannel;
  events?: TransferEvents;
}
