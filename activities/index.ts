import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { parseMinor } from '../domain/money';
import type { FailureReason, TransferStatus } from '../domain/transfers';
import { LegAlreadyDecided, findOutcome, postLeg, voidLeg, type Leg, type PostingRequest, type PostingResult } from '../ledger/postings';
import { finishTransfer } from '../ledger/transfers';

/** What every leg activity needs; amounts are decimal strings of minor units in payloads. */
export interface LegInput {
  transferId: string;
  userId: string;
  amountMinor: string;
  currency: string;
  /** clearing for peer-to-peer transfers, settlement for deposits and withdrawals. */
  counterparty: 'clearing' | 'settlement';
}

export interface FinishInput {
  transferId: string;
  ownerUserId: string;
  status: TransferStatus;
  failureReason: FailureReason | null;
}

export interface ActivityDependencies {
  shards: ShardSet;
  logger: Logger;
}

export function createActivities({ shards, logger }: ActivityDependencies) {
  /** Runs postLeg in its own transaction; a lost race with another attempt returns that attempt's outcome. */
  async function postOnce(shard: number, request: PostingRequest): Promise<PostingResult> {
    try {
      return await shards.withTransaction(shard, (client) => postLeg(client, request));
    } catch (error) {
      if (!(error instanceof LegAlreadyDecided)) throw error;
      const decided = await shards.withClient(shard, (client) => findOutcome(client, request.transferId, request.leg));
      if (!decided) throw new Error(`leg ${request.transferId}/${request.leg} lost a race but has no outcome`);
      return { ...decided, replayed: true };
    }
  }

  function legRequest(input: LegInput, leg: Leg, signedAmount: bigint, kind: PostingRequest['customerEntryKind']): PostingRequest {
    const workflowExecution = currentExecution();
    return {
      transferId: input.transferId,
      leg,
      userId: input.userId,
      customerDeltaMinor: signedAmount,
      currency: input.currency,
      counterparty: input.counterparty,
      customerEntryKind: kind,
      ignoreFreeze: leg === 'refund',
      workflowId: workflowExecution.workflowId,
      runId: workflowExecution.runId,
    };
  }

  function log(input: { transferId: string }) {
    const info = Context.current().info;
    return logger.child({
      transfer_id: input.transferId,
      workflow_id: currentExecution().workflowId,
      activity: info.activityType,
      attempt: info.attempt,
    });
  }

  /** Refusals are business outcomes: non-retryable, typed from the fixed list. */
  function refuse(input: LegInput, leg: Leg, reason: FailureReason): never {
    log(input).info({ leg, reason }, 'leg refused');
    throw ApplicationFailure.create({ type: reason, message: `${leg} refused: ${reason}`, nonRetryable: true });
  }

  return {
    /** Takes the money from the sender: customer -X, clearing (or settlement) +X on the sender's shard. */
    async debitWallet(input: LegInput): Promise<{ balanceAfterMinor: string }> {
      const amount = parseMinor(input.amountMinor);
      const kind = input.counterparty === 'clearing' ? 'transfer_out' : 'withdrawal';
      const result = await postOnce(shards.shardOf(input.userId), legRequest(input, 'debit', -amount, kind));
      if (result.outcome === 'refused') refuse(input, 'debit', result.reason);
      if (result.outcome === 'voided') refuse(input, 'debit', 'ledger_unavailable');
      log(input).info({ leg: 'debit', replayed: result.replayed }, 'debit posted');
      return { balanceAfterMinor: result.balanceAfterMinor.toString() };
    },

    /** Gives the money to the recipient: clearing (or settlement) -X, customer +X on the recipient's shard. */
    async creditWallet(input: LegInput): Promise<{ balanceAfterMinor: string }> {
      const amount = parseMinor(input.amountMinor);
      const kind = input.counterparty === 'clearing' ? 'transfer_in' : 'deposit';
      const result = await postOnce(shards.shardOf(input.userId), legRequest(input, 'credit', amount, kind));
      if (result.outcome === 'refused') refuse(input, 'credit', result.reason);
      if (result.outcome === 'voided') throw new Error(`credit of ${input.transferId} was voided; credits are never voided`);
      log(input).info({ leg: 'credit', replayed: result.replayed }, 'credit posted');
      return { balanceAfterMinor: result.balanceAfterMinor.toString() };
    },

    /**
     * Compensation: first fences the debit (a debit that never ran is voided so it can never run
     * late), then, if the debit was posted, returns the money as a new refund posting.
     */
    async refundDebit(input: LegInput): Promise<{ refunded: boolean }> {
      const shard = shards.shardOf(input.userId);
      const request = legRequest(input, 'refund', parseMinor(input.amountMinor), 'refund');
      const debit = await shards
        .withTransaction(shard, (client) => voidLeg(client, { ...request, leg: 'debit' }))
        .catch(async (error: unknown) => {
          if (!(error instanceof LegAlreadyDecided)) throw error;
          return { ...(await shards.withClient(shard, (client) => findOutcome(client, input.transferId, 'debit')))!, replayed: true };
        });
      if (debit.outcome !== 'posted') {
        log(input).info({ debit: debit.outcome }, 'nothing to refund');
        return { refunded: false };
      }
      const refund = await postOnce(shard, request);
      if (refund.outcome !== 'posted') throw new Error(`refund of ${input.transferId} ended ${refund.outcome}; refunds must post`);
      log(input).warn({ leg: 'refund', replayed: refund.replayed }, 'debit refunded');
      return { refunded: true };
    },

    /** Writes the final state to the transfer's durable record on its owner's shard. */
    async finishTransfer(input: FinishInput): Promise<void> {
      const record = await shards.withClient(shards.shardOf(input.ownerUserId), (client) =>
        finishTransfer(client, input.transferId, input.status, input.failureReason),
      );
      if (record.status !== input.status) {
        throw ApplicationFailure.create({
          type: 'transfer_state_conflict',
          message: `transfer ${input.transferId} is already ${record.status}, not ${input.status}`,
          nonRetryable: true,
        });
      }
      log(input).info({ status: input.status, failure_reason: input.failureReason }, 'transfer finished');
    },
  };
}

/** The workflow run that called this activity; it is written on every ledger row for traceability. */
function currentExecution(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('wallet activities run only inside transfer workflows');
  return execution;
}

export type WalletActivities = ReturnType<typeof createActivities>;
