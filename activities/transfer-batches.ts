import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { ledger_error_prefix } from '../domain/database-errors';
import { fromPayload, type Payload } from '../domain/payload';
import { requestHashOf } from '../domain/transfer-ids';
import { policyFor, type TransferLimits } from '../domain/transfer-policy';
import { final_statuses } from '../domain/transfers';
import { batchItems, completeBatch, findBatch, openBatchItems } from '../ledger/transfer-batches';
import { registerTransfer, type TransferRecord } from '../ledger/transfers';
import { classifyFailures, type RetryingTooLongCounter } from './classify-failures';

/** What a batch's items run with: the rules and timings the API accepted the batch under. */
export interface BatchItemRules<Timings = unknown> {
  limits: TransferLimits;
  timings: Timings;
}

/**
 * Starts the workflows of recorded transfers, at most a bounded number at once; one whose
 * workflow exists already (a single transfer with the item's key, or an earlier attempt) is
 * joined, never run twice. The worker's composition root hands it in (it needs a Temporal client).
 */
export type TransferStarter = (records: readonly TransferRecord[], rules: BatchItemRules) => Promise<void>;

export interface BatchActivityDependencies {
  shards: ShardSet;
  logger: Logger;
  startTransfers: TransferStarter;
  /** As the transfer activities': a step retrying longer than this (STUCK_AFTER) is logged and counted. */
  retryingTooLongMs?: number;
  retryingTooLongCounter?: RetryingTooLongCounter;
}

export interface BatchChunk {
  batchId: string;
  payerUserId: string;
  /** Positions fromPosition <= p < toPosition. */
  fromPosition: number;
  toPosition: number;
  rules: BatchItemRules;
}

/**
 * The batch workflow's activities. Like the transfer's, every error is either left retryable for
 * a reason or made final (classify-failures.ts): a broken constraint, a payload that does not
 * decode, a batch without its record fail for good, and the workflow flags the batch
 * NEEDS_ATTENTION instead of retrying them without end.
 */
export function createBatchActivities(deps: BatchActivityDependencies) {
  const payerPool = (payerUserId: string) => deps.shards.pool(deps.shards.shardOf(payerUserId));
  return classifyFailures(
    deps.logger,
    batchSteps(deps, payerPool),
    deps.retryingTooLongMs ?? null,
    deps.retryingTooLongCounter,
  );
}

function batchSteps(deps: BatchActivityDependencies, payerPool: (payerUserId: string) => pg.Pool) {
  return {
    /**
     * Records a chunk of the batch's items as transfers on the payer's shard, then starts their
     * workflows: the same record first, then start, that a single POST does, so an item is the
     * transfer its key names, whoever asked first. Idempotent: a retried chunk finds its
     * records and joins its workflows.
     */
    async startBatchItems(input: Payload<BatchChunk>): Promise<{ started: number }> {
      const chunk = fromPayload<BatchChunk>(input);
      const pool = payerPool(chunk.payerUserId);
      const batch = await findBatch(pool, chunk.batchId);
      // Written by the API before the workflow starts: without it, no retry can help.
      if (!batch)
        throw ApplicationFailure.create({
          type: `${ledger_error_prefix}batch_record_missing`,
          message: `batch ${chunk.batchId} has no record on its payer's shard`,
          nonRetryable: true,
        });
      const items = await batchItems(pool, chunk.batchId, {
        afterPosition: chunk.fromPosition - 1,
        limit: chunk.toPosition - chunk.fromPosition,
      });
      const toStart: TransferRecord[] = [];
      for (const item of items) {
        Context.current().heartbeat(item.position);
        const asked = {
          kind: 'transfer' as const,
          fromUserId: batch.payerUserId,
          toUserId: item.toUserId,
          amountMinor: item.amountMinor,
          currency: batch.currency,
          note: item.note,
        };
        const requestHash = requestHashOf(asked);
        const { record } = await registerTransfer(pool, {
          ...asked,
          transferId: item.transferId,
          ownerUserId: batch.payerUserId,
          idempotencyKey: item.idempotencyKey,
          requestHash,
          approvalsRequired: policyFor(asked, chunk.rules.limits).approvalsRequired,
          opsOperator: batch.initiatedBy,
        });
        // The API refused a key already used for another transfer; one used in the moments
        // between that check and now is that other transfer's, and is left to it.
        if (record.requestHash !== requestHash) {
          deps.logger.warn(
            { batch_id: batch.batchId, transfer_id: item.transferId, position: item.position },
            'a batch item key was taken by another transfer; the item shows that transfer',
          );
        } else if (!final_statuses.includes(record.status)) toStart.push(record);
      }
      await deps.startTransfers(toStart, chunk.rules);
      return { started: toStart.length };
    },

    /** Items not yet final (PENDING, PENDING_REVIEW or not yet recorded). */
    async openBatchItems(input: { batchId: string; payerUserId: string }): Promise<number> {
      return openBatchItems(payerPool(input.payerUserId), input.batchId);
    },

    /** Every item is final: the batch's record says so. */
    async completeBatch(input: { batchId: string; payerUserId: string }): Promise<void> {
      await completeBatch(payerPool(input.payerUserId), input.batchId);
    },
  };
}

export type BatchActivities = ReturnType<typeof batchSteps>;
