import type { Client } from '@temporalio/client';
import type { ShardSet } from '../db/shards';
import { isKnownCurrency } from '../domain/money';
import { requestHashOf, transferIdFor } from '../domain/transfer-ids';
import { final_statuses, ownerOf, type TransferKind } from '../domain/transfers';
import { legsOf, type LegRecord } from '../ledger/postings';
import { findTransfer, registerTransfer, type TransferRecord } from '../ledger/transfers';
import type { TransferTimings } from '../workflows/activity-options';
import { startTransferWorkflow } from '../runtime/start-transfer';
import { ApiError } from './errors';
import { requireUser } from './require-user';

export interface SubmitTransfer {
  kind: TransferKind;
  fromUserId: string | null;
  toUserId: string | null;
  amountMinor: bigint;
  currency: string;
  note: string | null;
  idempotencyKey: string;
}

export interface TransferServiceDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
}

/**
 * Accepts transfer requests exactly once. The durable record on the owner's shard is written
 * first: its unique key decides whether this is a new transfer, a retry (same body), or a
 * reused key (other body: refused). Only then is the workflow started, with the transfer id as
 * its workflow id, so racing retries converge on one workflow.
 */
export class TransferService {
  constructor(private readonly deps: TransferServiceDependencies) {}

  async submit(input: SubmitTransfer): Promise<{ record: TransferRecord; replayed: boolean }> {
    if (!isKnownCurrency(input.currency)) {
      throw new ApiError('unsupported_currency', `${input.currency} is not an ISO 4217 currency with minor units`);
    }
    if (input.fromUserId !== null && input.fromUserId === input.toUserId) {
      throw new ApiError('same_user', 'a transfer needs two different users');
    }
    for (const userId of [input.fromUserId, input.toUserId]) {
      if (userId !== null) await requireUser(this.deps.shards, userId);
    }

    const request = { kind: input.kind, fromUserId: input.fromUserId, toUserId: input.toUserId, amountMinor: input.amountMinor.toString(), currency: input.currency, note: input.note };
    const ownerUserId = ownerOf(request);
    const transferId = transferIdFor(input.kind, ownerUserId, input.idempotencyKey);
    const requestHash = requestHashOf(request);
    const { record, inserted } = await registerTransfer(this.deps.shards.pool(this.deps.shards.shardOf(ownerUserId)), {
      transferId,
      kind: input.kind,
      ownerUserId,
      fromUserId: input.fromUserId,
      toUserId: input.toUserId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      note: input.note,
      idempotencyKey: input.idempotencyKey,
      requestHash,
    });
    if (record.requestHash !== requestHash) {
      throw new ApiError('idempotency_key_reused', 'this idempotency key was already used for a different request');
    }
    if (!final_statuses.includes(record.status)) {
      await startTransferWorkflow(this.deps, { transferId, ...request });
    }
    return { record, replayed: !inserted };
  }

  /** Waits up to waitS seconds for the workflow to finish, then reads the durable record from its owner's shard. */
  async waitForFinal(record: TransferRecord, waitS: number): Promise<TransferRecord> {
    if (final_statuses.includes(record.status)) return record;
    if (waitS > 0) {
      const handle = this.deps.client.workflow.getHandle(record.transferId);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitS * 1000);
      });
      await Promise.race([handle.result().catch(() => undefined), deadline]).finally(() => clearTimeout(timer));
    }
    const ownerPool = this.deps.shards.pool(this.deps.shards.shardOf(record.ownerUserId));
    return (await findTransfer(ownerPool, record.transferId)) ?? record;
  }

  /** The transfer's legs as the ledger decided them, from the shards of both parties. */
  async legsOf(record: TransferRecord): Promise<LegRecord[]> {
    const shardsOfParties = new Set(
      [record.fromUserId, record.toUserId].filter((userId): userId is string => userId !== null).map((userId) => this.deps.shards.shardOf(userId)),
    );
    const legs = await Promise.all([...shardsOfParties].map((shard) => legsOf(this.deps.shards.pool(shard), record.transferId)));
    const order = { debit: 0, credit: 1, refund: 2 };
    return legs.flat().sort((a, b) => order[a.leg] - order[b.leg]);
  }

  /** Transfer ids do not encode a shard, so the record is looked up on every shard at once (primary key reads). */
  async find(transferId: string): Promise<TransferRecord | undefined> {
    const found = await Promise.all(this.deps.shards.pools.map((pool) => findTransfer(pool, transferId)));
    return found.find((record) => record !== undefined);
  }
}
