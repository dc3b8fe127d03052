import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import type { ActionTokenKeys } from '../domain/action-tokens';
import type { Payload } from '../domain/payload';
import type { TransferLeg } from '../domain/transfer-legs';
import type { FailureReason, TransferStatus } from '../domain/transfers';
import type { ChaosCrash } from './chaos-crash';
import type { RetryingTooLongCounter } from './classify-failures';

/** Compensation: the debit's leg, refunded, and why the transfer failed (the owner's record ends FAILED with it). */
export interface Refund extends TransferLeg {
  failureReason: FailureReason;
}

/** A refund as its activity receives it (the wire shape). */
export type RefundInput = Payload<Refund>;

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
  /** Verifies operators' action tokens (verifyActionToken); absent: every token is refused. */
  actionTokens?: ActionTokenKeys;
  /** A step retrying longer than this (STUCK_AFTER) logs an error on each failed attempt; absent: never. */
  retryingTooLongMs?: number;
  /** Counts those attempts (wallet_ledger_steps_retrying_long_total); absent: only logged. */
  retryingTooLongCounter?: RetryingTooLongCounter;
  /** `npm run chaos` only. */
  chaosCrash?: ChaosCrash;
}
