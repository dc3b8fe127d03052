import { batchIdFor, batchRequestHashOf, batchTotalOf, type BatchRequest } from '../domain/transfer-batches';
import { requestHashOf, transferIdFor } from '../domain/transfer-ids';
import { exceedsTransferMax } from '../domain/transfer-policy';
import {
  batchCounts,
  batchItems,
  dailyOutgoingRoom,
  existingRequestHashes,
  existingUsers,
  findBatch,
  openBatchItems,
  registerBatch,
  type BatchItemRecord,
  type BatchRecord,
} from '../ledger/transfer-batches';
import { startTransferBatchWorkflow } from '../temporal-client/start-transfer-batch';
import { requireSupportedCurrencies } from './currencies';
import { ApiError } from './errors';
import { requireUser } from './require-user';
import type { TransferServiceDependencies } from './transfer-service';

/** What a batch needs of the single transfers' dependencies: its items are started as they are. */
export type TransferBatchServiceDependencies = Pick<
  TransferServiceDependencies,
  'shards' | 'client' | 'taskQueue' | 'timings' | 'limits' | 'currencies'
>;

export interface SubmitBatch extends BatchRequest {
  /** The operator (token sub) when an ops token made the request: each item is audited under it. */
  opsOperator: string | null;
}

/** A batch as it stands: its record, its items' counts by status, and whether every item is final. */
export interface BatchState {
  record: BatchRecord;
  counts: Partial<Record<string, number>>;
  final: boolean;
}

/** `?wait` re-reads the items' records from this interval, doubling up to the maximum. */
const poll_first_ms = 100;
const poll_max_ms = 1_000;

/**
 * Accepts batches exactly once, as TransferService accepts transfers: every check runs before
 * anything is written, then the batch and its items are recorded on the payer's shard in one
 * transaction (its key decides new, retry or reused), and only then is its workflow started.
 */
export class TransferBatchService {
  constructor(private readonly deps: TransferBatchServiceDependencies) {}

  async submit(input: SubmitBatch): Promise<{ record: BatchRecord; replayed: boolean }> {
    const payerShard = this.deps.shards.shardOf(input.payerUserId);
    const payerPool = this.deps.shards.pool(payerShard);
    const batchId = batchIdFor(input.payerUserId, input.idempotencyKey);
    const requestHash = batchRequestHashOf(input);
    // A retry is answered from the record, without the checks: they held when it was accepted.
    const earlier = await findBatch(payerPool, batchId);
    if (earlier) return { record: await this.started(requireSameRequest(earlier, requestHash)), replayed: true };

    await this.checkItems(input);
    const items = input.items.map((item) => ({
      ...item,
      transferId: transferIdFor('transfer', input.payerUserId, item.idempotencyKey),
    }));
    const newTotal = await this.totalOfNewItems(input, items);
    const room = await dailyOutgoingRoom(payerPool, {
      userId: input.payerUserId,
      currency: input.currency,
      defaultMaxMinor: this.deps.limits.dailyOutgoingMaxMinor,
    });
    if (room !== null && newTotal > room) {
      throw new ApiError(
        'limit_exceeded',
        `the batch moves ${newTotal} minor units, more than the ${room < 0n ? 0n : room} left of the payer's 24-hour outgoing limit; nothing was started`,
      );
    }
    const { record, inserted } = await this.deps.shards.withTransaction(payerShard, (client) =>
      registerBatch(
        client,
        {
          batchId,
          payerUserId: input.payerUserId,
          idempotencyKey: input.idempotencyKey,
          requestHash,
          currency: input.currency,
          itemCount: items.length,
          totalMinor: batchTotalOf(items),
          initiatedBy: input.opsOperator,
        },
        items,
      ),
    );
    return { record: await this.started(requireSameRequest(record, requestHash)), replayed: !inserted };
  }

  /** Every item must be a transfer a single POST would accept: supported currency, within the maximum, to another existing user. */
  private async checkItems(input: SubmitBatch): Promise<void> {
    requireSupportedCurrencies(this.deps.currencies, input.currency);
    for (const [position, item] of input.items.entries()) {
      if (item.toUserId === input.payerUserId)
        throw new ApiError('same_user', `item ${position} pays the payer itself`, { position });
      if (exceedsTransferMax({ kind: 'transfer', amountMinor: item.amountMinor }, this.deps.limits))
        throw new ApiError(
          'limit_exceeded',
          `item ${position}: one transfer may move at most ${this.deps.limits.transferAmountMaxMinor} minor units`,
          { position },
        );
    }
    await requireUser(this.deps.shards, input.payerUserId);
    const recipients = [...new Set(input.items.map((item) => item.toUserId))];
    const byShard = new Map<number, string[]>();
    for (const userId of recipients) {
      const shard = this.deps.shards.shardOf(userId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), userId]);
    }
    const found = await Promise.all(
      [...byShard].map(([shard, userIds]) => existingUsers(this.deps.shards.pool(shard), userIds)),
    );
    const unknown = recipients.filter((userId) => !found.some((users) => users.has(userId)));
    if (unknown.length > 0)
      throw new ApiError('user_not_found', `no such recipient: ${unknown.slice(0, 10).join(', ')}`, {
        unknown_users: unknown.slice(0, 100),
      });
  }

  /**
   * The total of the items not yet recorded as transfers: an item whose key a single transfer
   * (or an earlier batch) already used is that transfer, counted by the ledger when it moved.
   * One whose key names a different transfer is refused, as a single POST with the key would be.
   */
  private async totalOfNewItems(
    input: SubmitBatch,
    items: readonly (BatchRequest['items'][number] & { transferId: string })[],
  ): Promise<bigint> {
    const payerPool = this.deps.shards.pool(this.deps.shards.shardOf(input.payerUserId));
    const existing = await existingRequestHashes(
      payerPool,
      items.map((item) => item.transferId),
    );
    let total = 0n;
    for (const [position, item] of items.entries()) {
      const hash = existing.get(item.transferId);
      if (hash === undefined) {
        total += item.amountMinor;
        continue;
      }
      const asked = requestHashOf({
        kind: 'transfer',
        fromUserId: input.payerUserId,
        toUserId: item.toUserId,
        amountMinor: item.amountMinor,
        currency: input.currency,
        note: item.note,
      });
      if (hash !== asked)
        throw new ApiError(
          'idempotency_key_reused',
          `item ${position}: its idempotency_key was already used for a different transfer`,
          { position, idempotency_key: item.idempotencyKey },
        );
    }
    return total;
  }

  /** Starts (or joins) the batch's workflow unless it finished. */
  private async started(record: BatchRecord): Promise<BatchRecord> {
    if (record.status !== 'COMPLETED') await startTransferBatchWorkflow(this.deps, record);
    return record;
  }

  /** Batch ids do not encode a shard: looked up on every shard at once (primary key reads). */
  async find(batchId: string): Promise<BatchRecord | undefined> {
    const found = await Promise.all(this.deps.shards.pools.map((pool) => findBatch(pool, batchId)));
    return found.find((record) => record !== undefined);
  }

  async stateOf(record: BatchRecord): Promise<BatchState> {
    const counts = await batchCounts(this.payerPool(record), record.batchId);
    const open = (counts.PENDING ?? 0) + (counts.PENDING_REVIEW ?? 0);
    return { record, counts, final: open === 0 };
  }

  async items(record: BatchRecord, page: { afterPosition: number; limit: number }): Promise<BatchItemRecord[]> {
    return batchItems(this.payerPool(record), record.batchId, page);
  }

  /** Waits until every item is final, `waitS` seconds pass or `gone` aborts; polls the items' records. */
  async waitForFinal(record: BatchRecord, waitS: number, gone?: AbortSignal): Promise<void> {
    const deadline = Date.now() + waitS * 1000;
    const pool = this.payerPool(record);
    for (let pollMs = poll_first_ms; ; pollMs = Math.min(pollMs * 2, poll_max_ms)) {
      if ((await openBatchItems(pool, record.batchId)) === 0) return;
      const left = deadline - Date.now();
      if (left <= 0 || gone?.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    }
  }

  private payerPool(record: BatchRecord) {
    return this.deps.shards.pool(this.deps.shards.shardOf(record.payerUserId));
  }
}

function requireSameRequest(record: BatchRecord, requestHash: string): BatchRecord {
  if (record.requestHash !== requestHash)
    throw new ApiError('idempotency_key_reused', 'this batch idempotency_key was already used for a different batch');
  return record;
}
