import { ApplicationFailure } from '@temporalio/activity';
import { TransferStateConflict } from '../ledger/postings';
import type { ActionTokenCheck, ActionTokenVerdict } from '../domain/operators';
import type { LegInput } from '../domain/transfer-legs';
import { busyAsFinal } from './busy-shard';
import { classifyFailures } from './classify-failures';
import { fenceAndFinish, type FencedDebit } from './fence';
import { checkActionToken, recordRefusal, type RefusedAction } from './ops-actions';
import { postAndFinish } from './post-leg';
import { logLegDebug, refusal } from './leg-context';
import { refundAndFinish } from './refund';
import { recordRetry, type RetryRecord } from './retry';
import { reverseAndRecord, type ReverseInput, type ReverseResult } from './reverse';
import { expireReview, recordDecision, type ReviewDecisionInput } from './review';
import type { ActivityDependencies, RefundInput } from './types';

export type { ActivityDependencies, RefundInput } from './types';
export type { FencedDebit } from './fence';
export type { RefusedAction } from './ops-actions';
export type { Reversal, ReverseInput, ReverseResult } from './reverse';
export type { ReviewDecisionInput } from './review';

/**
 * The ledger legs of a transfer. The workflow runs them as local activities: each is
 * idempotent by (transfer_id, leg), so running one again after a crash or a timeout replays
 * the outcome the first run committed. An error no retry can fix fails the activity for good
 * (classify-failures.ts), so the workflow escalates the transfer instead of retrying forever.
 */
export function createActivities(deps: ActivityDependencies) {
  return classifyFailures(
    deps.logger,
    {
      /** Takes the money from the sender: customer -X, clearing (settlement, FX house) +X on the sender's shard. */
      async debitWallet(input: LegInput): Promise<{ balanceAfterMinor: string }> {
        const kind = input.counterparty === 'settlement' ? 'withdrawal' : 'transfer_out';
        const result = await failOnConflict(() => busyAsFinal(() => postAndFinish(deps, input, 'debit', kind)));
        // Fenced off before it ran: its fate is settled by fenceDebit, which the workflow calls next.
        if (result.outcome === 'voided') throw refusal('debit', 'ledger_unavailable');
        logLegDebug(deps, input.transferId, { leg: 'debit', replayed: result.replayed }, 'debit posted');
        return { balanceAfterMinor: result.balanceAfterMinor.toString() };
      },

      /** Gives the money to the recipient: clearing (settlement, FX house) -Y, customer +Y on the recipient's shard. */
      async creditWallet(input: LegInput): Promise<{ balanceAfterMinor: string }> {
        const kind = input.counterparty === 'settlement' ? 'deposit' : 'transfer_in';
        const result = await failOnConflict(() => postAndFinish(deps, input, 'credit', kind));
        if (result.outcome === 'voided')
          throw new Error(`credit of ${input.transferId} was voided; credits are never voided`);
        logLegDebug(deps, input.transferId, { leg: 'credit', replayed: result.replayed }, 'credit posted');
        return { balanceAfterMinor: result.balanceAfterMinor.toString() };
      },

      /** After a debit of unknown fate: fixes its fate in the ledger and answers it. */
      async fenceDebit(input: LegInput): Promise<FencedDebit> {
        return failOnConflict(() => fenceAndFinish(deps, input));
      },

      /** Compensation after a refused credit: refunds the debit and ends the transfer FAILED. */
      async refundDebit(input: RefundInput): Promise<{ refunded: boolean }> {
        return failOnConflict(() => refundAndFinish(deps, input));
      },

      /** An operator's reversal of a completed transfer: new legs back, the record REVERSED, audited. */
      async reverseTransfer(input: ReverseInput): Promise<ReverseResult> {
        return failOnConflict(() => reverseAndRecord(deps, input));
      },

      /** An operator's approval or rejection of a transfer held for review, on the record and in the audit. */
      async recordReviewDecision(input: ReviewDecisionInput): Promise<{ status: string }> {
        return recordDecision(deps, input);
      },

      /** A held transfer nobody decided on in time ends FAILED (review_timeout). */
      async expireReview(input: {
        transferId: string;
        ownerUserId: string;
        kind: ReviewDecisionInput['kind'];
      }): Promise<void> {
        return expireReview(deps, input);
      },

      /** Who sent an operator's signal or update: its action token verified (signature, expiry, action, transfer). */
      async verifyActionToken(check: ActionTokenCheck): Promise<ActionTokenVerdict> {
        return checkActionToken(deps, check);
      },

      /** An operator's request refused before anything moved, written to the audit as `refused`. */
      async recordRefusedAction(input: RefusedAction): Promise<void> {
        return recordRefusal(deps, input);
      },
      /** An operator's retry of a step that had failed for good, in the audit. */
      async recordRetry(input: RetryRecord): Promise<void> {
        return recordRetry(deps, input);
      },
    },
    deps.retryingTooLongMs ?? null,
    deps.retryingTooLongCounter,
  );
}

/** A record already final in another state: nothing moved, and no retry can help; the run fails for ops to see. */
async function failOnConflict<T>(leg: () => Promise<T>): Promise<T> {
  try {
    return await leg();
  } catch (error) {
    if (!(error instanceof TransferStateConflict)) throw error;
    throw ApplicationFailure.create({ type: 'transfer_state_conflict', message: error.message, nonRetryable: true });
  }
}

export type WalletActivities = ReturnType<typeof createActivities>;
