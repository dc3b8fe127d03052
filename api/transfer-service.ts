import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ShardSet } from '../db/shards';
import { formatMinor, isKnownCurrency } from '../domain/money';
import { requestHashOf, transferIdFor } from '../domain/transfer-ids';
import { final_statuses, ownerOf, type TransferKind, type TransferRequest } from '../domain/transfers';
import { findTransfer, registerTransfer, type TransferRecord } from '../ledger/transfers';
import { findUser } from '../ledger/users';
import type { TransferTimings } from '../workflows/activity-options';
import { AmountMinorKey, CurrencyKey, FromUserKey, ToUserKey, TransferStatusKey } from '../workflows/search-attributes';
import { transferWorkflow } from '../workflows/transfer';
import { ApiError } from './errors';

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
    await this.requireUsers([input.fromUserId, input.toUserId]);

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
      await this.startWorkflow({ transferId, ...request });
    }
    return { record, replayed: !inserted };
  }

  /** Waits up to waitS seconds for the workflow to finish, then reads the durable record. */
  async waitForFinal(record: TransferRecord, waitS: number): Promise<TransferRecord> {
    if (!final_statuses.includes(record.status) && waitS > 0) {
      const handle = this.deps.client.workflow.getHandle(record.transferId);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitS * 1000);
      });
      await Promise.race([handle.result().catch(() => undefined), deadline]).finally(() => clearTimeout(timer));
    }
    return (await this.find(record.transferId)) ?? record;
  }

  /** Transfer ids do not encode a shard, so the record is looked up on every shard at once (primary key reads). */
  async find(transferId: string): Promise<TransferRecord | undefined> {
    const found = await Promise.all(this.deps.shards.pools.map((pool) => findTransfer(pool, transferId)));
    return found.find((record) => record !== undefined);
  }

  private async requireUsers(userIds: (string | null)[]): Promise<void> {
    for (const userId of userIds) {
      if (userId === null) continue;
      const user = await findUser(this.deps.shards.pool(this.deps.shards.shardOf(userId)), userId);
      if (!user) throw new ApiError('user_not_found', `user ${userId} does not exist`);
    }
  }

  private async startWorkflow(request: TransferRequest): Promise<void> {
    try {
      await this.deps.client.workflow.start(transferWorkflow, {
        workflowId: request.transferId,
        taskQueue: this.deps.taskQueue,
        args: [{ request, timings: this.deps.timings }],
        // A finished transfer is never run again under the same id; a running one is joined.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        typedSearchAttributes: [
          { key: TransferStatusKey, value: 'PENDING' },
          { key: FromUserKey, value: request.fromUserId ?? `settlement:${request.currency}` },
          { key: ToUserKey, value: request.toUserId ?? `settlement:${request.currency}` },
          { key: AmountMinorKey, value: Number(request.amountMinor) },
          { key: CurrencyKey, value: request.currency },
        ],
        staticSummary: summaryOf(request),
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      // A start that raced with another request for the same transfer can fail in other ways
      // (for instance while the first run is closing); if the workflow exists, all is well.
      const exists = await this.deps.client.workflow
        .getHandle(request.transferId)
        .describe()
        .then(() => true, () => false);
      if (!exists) throw error;
    }
  }
}

/** "user_A -> user_B 50.00 USD", shown in the Temporal Web UI's workflow list. */
export function summaryOf(request: Pick<TransferRequest, 'kind' | 'fromUserId' | 'toUserId' | 'amountMinor' | 'currency'>): string {
  const from = request.fromUserId ?? 'deposit';
  const to = request.toUserId ?? 'withdrawal';
  return `${from} -> ${to} ${formatMinor(BigInt(request.amountMinor), request.currency)} ${request.currency}`;
}
