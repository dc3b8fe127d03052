import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { verifyActionToken, type ActionTokenKeys } from '../domain/action-tokens';
import type { ActionTokenCheck, ActionTokenVerdict } from '../domain/operators';
import {
  payout_cancelable_statuses,
  payoutFailureOf,
  type PayoutFailureReason,
  type PayoutStatus,
} from '../domain/payouts';
import { recordOpsAction } from '../ledger/audit';
import { releaseHold, returnSettled, settleHold, holdPayout } from '../ledger/payout-holds';
import { findPayout, movePayout, type PayoutRecord } from '../ledger/payouts';
import { TransferStateConflict } from '../ledger/postings';
import { classifyFailures } from './classify-failures';
import { currentExecution } from './leg-context';

export interface PayoutActivityDependencies {
  shards: ShardSet;
  logger: Logger;
  /** Verifies the action tokens of `cancel`; absent: every cancel is refused. */
  actionTokens?: ActionTokenKeys;
}

interface Target {
  payoutId: string;
  userId: string;
}

/**
 * The payout workflow's steps, on the owner's shard. Each moves money through a leg keyed by the
 * payout id (ledger/payout-holds.ts) and then the record's status, guarded by the status it
 * expects; run again after a crash, a step replays the leg's first outcome and finds the record
 * moved. A leg that cannot apply (settling a released hold) is a bug: it fails for good, and the
 * payout shows in the stuck list (GET /v1/ops/payouts?stuck=true) rather than retrying unseen.
 */
export function createPayoutActivities(deps: PayoutActivityDependencies) {
  return classifyFailures(deps.logger, payoutSteps(deps));
}

function payoutSteps(deps: PayoutActivityDependencies) {
  const poolOf = (userId: string) => deps.shards.pool(deps.shards.shardOf(userId));
  const log = (target: Target) => payoutLogger(deps, target);
  return {
    /** Reserves the amount (with a transfer debit's checks); the record becomes HELD, or FAILED with the refusal. */
    async holdPayout(
      input: Target & { dailyOutgoingMaxMinor: string },
    ): Promise<{ outcome: 'held' | 'canceled' } | { outcome: 'failed'; reason: PayoutFailureReason }> {
      const pool = poolOf(input.userId);
      const record = await requireRecord(pool, input.payoutId);
      const held = await failOnConflict(() =>
        holdPayout(pool, {
          ...currentExecution(),
          payoutId: record.payoutId,
          userId: record.userId,
          currency: record.currency,
          amountMinor: record.amountMinor,
          dailyOutgoingMaxMinor: BigInt(input.dailyOutgoingMaxMinor),
        }),
      );
      if (held.outcome === 'voided') return { outcome: 'canceled' };
      if (held.outcome === 'refused') {
        const reason = payoutFailureOf(held.reason);
        await movePayout(pool, record.payoutId, ['ACCEPTED'], 'FAILED', { failureReason: reason });
        log(input).info({ reason }, 'payout hold refused');
        return { outcome: 'failed', reason };
      }
      const moved = await movePayout(pool, record.payoutId, ['ACCEPTED'], 'HELD');
      // A cancel won the record first; its release gives the hold back (or fenced it).
      return { outcome: moved ? 'held' : 'canceled' };
    },

    async markSubmitted(input: Target): Promise<void> {
      await movePayout(poolOf(input.userId), input.payoutId, ['BATCHED'], 'SUBMITTED');
    },

    /** The bank settled it: the held money leaves for the settlement account; the return window starts. */
    async settlePayout(input: Target & { returnWindowMs: number }): Promise<{ returnWindowEndsAt: string }> {
      const pool = poolOf(input.userId);
      await failOnConflict(() => settleHold(pool, input.payoutId, currentExecution()));
      const moved = await movePayout(pool, input.payoutId, ['SUBMITTED', 'BATCHED'], 'SETTLED', {
        settledAt: true,
        returnWindowMs: input.returnWindowMs,
      });
      if (!moved?.returnWindowEndsAt) throw conflict(`payout ${input.payoutId} settled but its record would not move`);
      return { returnWindowEndsAt: moved.returnWindowEndsAt.toISOString() };
    },

    /** A return: before settlement the hold goes back; after it, the settled money comes back. */
    async returnPayout(input: Target & { returnCode: string; afterSettlement: boolean }): Promise<void> {
      const pool = poolOf(input.userId);
      const run = currentExecution();
      if (input.afterSettlement) await failOnConflict(() => returnSettled(pool, input.payoutId, run));
      else await failOnConflict(() => releaseHold(pool, input.payoutId, run));
      await movePayout(pool, input.payoutId, ['BATCHED', 'SUBMITTED', 'SETTLED'], 'RETURNED', {
        returnCode: input.returnCode,
      });
      log(input).warn({ return_code: input.returnCode, after_settlement: input.afterSettlement }, 'payout returned');
    },

    /** The bank refused the file the payout was in: its hold goes back and it ends FAILED. */
    async failPayout(input: Target & { reason: PayoutFailureReason }): Promise<void> {
      const pool = poolOf(input.userId);
      await failOnConflict(() => releaseHold(pool, input.payoutId, currentExecution()));
      await movePayout(pool, input.payoutId, ['BATCHED', 'SUBMITTED'], 'FAILED', { failureReason: input.reason });
    },

    ...cancelSteps(deps),
    ...reviewSteps(deps),
  };
}

/** An operator's cancel: the token's check, then the record's move and the hold's release. */
function cancelSteps(deps: PayoutActivityDependencies) {
  const log = (target: Target) => payoutLogger(deps, target);
  return {
    /** Who sent a `cancel`, `approve` or `reject`: its action token, for that action on this payout. */
    async verifyPayoutToken(check: ActionTokenCheck): Promise<ActionTokenVerdict> {
      return verifyActionToken(deps.actionTokens, check);
    },

    /**
     * An operator's cancel: the record moves to CANCELED only from a status before any file (the
     * cutoff's claim and this move exclude each other), audited in the same transaction; then
     * the hold goes back. Answers the status that stopped it otherwise.
     */
    async cancelPayout(
      input: Target & { operator: string; reason: string; via: 'signal' | 'update' },
    ): Promise<{ canceled: boolean; status: PayoutStatus }> {
      const shard = deps.shards.shardOf(input.userId);
      const moved = await deps.shards.withTransaction(shard, async (client) => {
        const record = await movePayout(client, input.payoutId, payout_cancelable_statuses, 'CANCELED');
        if (record)
          await recordOpsAction(client, {
            operator: input.operator,
            action: 'payout_cancel',
            targetType: 'payout',
            targetId: input.payoutId,
            reason: input.reason,
            via: input.via,
            details: { user_id: input.userId },
            dedupeKey: `${input.payoutId}:payout_cancel`,
          });
        return record;
      });
      if (!moved) {
        const current = await requireRecord(deps.shards.pool(shard), input.payoutId);
        return { canceled: false, status: current.status };
      }
      await failOnConflict(() => releaseHold(deps.shards.pool(shard), input.payoutId, currentExecution()));
      log(input).info({ operator: input.operator, via: input.via }, 'payout canceled');
      return { canceled: true, status: 'CANCELED' };
    },
  };
}

/** A payout held for review: an operator's decision recorded and audited, and the review's timeout. */
function reviewSteps(deps: PayoutActivityDependencies) {
  return {
    /**
     * Audits the decision (once per payout, decision and operator) and, when it decides the review
     * (the last approval, or a rejection), moves the record: ACCEPTED (the hold comes next) or
     * FAILED review_rejected. In one transaction, so the audit and the record agree.
     */
    async recordPayoutReview(
      input: Target & {
        decision: 'approve' | 'reject';
        operator: string;
        reason: string;
        via: 'signal' | 'update';
        releases: boolean;
      },
    ): Promise<void> {
      await deps.shards.withTransaction(deps.shards.shardOf(input.userId), async (client) => {
        await recordOpsAction(client, {
          operator: input.operator,
          action: input.decision,
          targetType: 'payout',
          targetId: input.payoutId,
          reason: input.reason,
          via: input.via,
          details: { user_id: input.userId, releases: input.releases },
          dedupeKey: `${input.payoutId}:${input.decision}:${input.operator}`,
        });
        if (input.decision === 'reject')
          await movePayout(client, input.payoutId, ['PENDING_REVIEW'], 'FAILED', { failureReason: 'review_rejected' });
        else if (input.releases) await movePayout(client, input.payoutId, ['PENDING_REVIEW'], 'ACCEPTED');
      });
    },

    /** Nobody decided in time: FAILED review_timeout, nothing held. */
    async expirePayoutReview(input: Target): Promise<void> {
      await movePayout(
        deps.shards.pool(deps.shards.shardOf(input.userId)),
        input.payoutId,
        ['PENDING_REVIEW'],
        'FAILED',
        {
          failureReason: 'review_timeout',
        },
      );
    },
  };
}

export type PayoutActivities = ReturnType<typeof payoutSteps>;

async function requireRecord(pool: Parameters<typeof findPayout>[0], payoutId: string): Promise<PayoutRecord> {
  const record = await findPayout(pool, payoutId);
  // The API writes the record before it starts the workflow: without it, no retry can help.
  if (!record) throw conflict(`payout ${payoutId} has no record on its owner's shard`);
  return record;
}

function payoutLogger(deps: PayoutActivityDependencies, target: Target) {
  return deps.logger.child({ payout_id: target.payoutId, workflow_id: target.payoutId });
}

function conflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'payout_state_conflict', message, nonRetryable: true });
}

async function failOnConflict<T>(leg: () => Promise<T>): Promise<T> {
  try {
    return await leg();
  } catch (error) {
    if (error instanceof TransferStateConflict) throw conflict(error.message);
    throw error;
  }
}
