import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ShardSet } from '../db/shards';
import { issueActionToken, type ActionTokenKeys } from '../domain/action-tokens';
import { payoutIdFor, payoutRequestHashOf } from '../domain/payout-ids';
import { payout_final_statuses, type PayoutStatus } from '../domain/payouts';
import { policyFor, type TransferLimits } from '../domain/transfer-policy';
import { recordOpsAction } from '../ledger/audit';
import { usableBankAccount } from '../ledger/bank-accounts';
import { findPayout, registerPayout, stuckPayouts, type PayoutRecord } from '../ledger/payouts';
import { startPayoutWorkflow } from '../temporal-client/start-payout';
import type { PayoutTimings } from '../workflows/payout';
import { approvePayoutUpdate, cancelPayoutUpdate, rejectPayoutUpdate } from '../workflows/payout-messages';
import { ApiError } from './errors';
import { requireUser } from './require-user';

export interface PayoutServiceDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  limits: TransferLimits;
  timings: PayoutTimings;
  actionTokens: ActionTokenKeys;
  /** REVIEW_TIMEOUT, as for transfers. */
  reviewTimeoutMs: number;
  /** The currency the rail moves (ACH: USD); any other is unsupported_currency. */
  railCurrency: string;
}

export interface SubmitPayout {
  userId: string;
  bankAccountId: string;
  amountMinor: bigint;
  currency: string;
  idempotencyKey: string;
  /** The operator (token sub) when an ops token made the request. */
  opsOperator: string | null;
}

/** `?wait` re-reads the record from this interval, doubling up to the maximum. */
const poll_first_ms = 100;
const poll_max_ms = 1_000;
/** An ops update (cancel, approve, reject) waits this long for the workflow to take it. */
const ops_update_timeout_ms = 15_000;
/** The workflow's refusals of an ops update, each an API error code. */
const refusal_codes = [
  'payout_not_cancelable',
  'payout_not_in_review',
  'approver_not_independent',
  'second_approver_required',
] as const;
type RefusalCode = (typeof refusal_codes)[number];
/** The stuck list answers at most this many payouts per shard, oldest first. */
const stuck_listed_max = 100;

/**
 * Accepts payouts exactly once, as TransferService accepts transfers: every check runs before
 * anything is written, then the record is written on the owner's shard (its key decides new,
 * retry or reused), and only then is the workflow started, with the payout id as its id. A
 * payout over the available balance is accepted and ends FAILED insufficient_funds when its hold
 * is refused, as a transfer does: the hold is the one place that decides it, under the wallet's
 * row lock, so racing payouts hold exactly what the balance covers.
 */
export class PayoutService {
  constructor(private readonly deps: PayoutServiceDependencies) {}

  async submit(input: SubmitPayout): Promise<{ record: PayoutRecord; replayed: boolean }> {
    const pool = this.deps.shards.pool(this.deps.shards.shardOf(input.userId));
    const payoutId = payoutIdFor(input.userId, input.idempotencyKey);
    const requestHash = payoutRequestHashOf(input);
    // A retry is answered from the record, without the checks: they held when it was accepted.
    const earlier = await findPayout(pool, payoutId);
    if (earlier) return { record: await this.started(sameRequest(earlier, requestHash)), replayed: true };
    if (input.currency !== this.deps.railCurrency)
      throw new ApiError('unsupported_currency', `payouts move ${this.deps.railCurrency} only (the ACH rail)`);
    if (input.amountMinor > this.deps.limits.transferAmountMaxMinor)
      throw new ApiError(
        'limit_exceeded',
        `one payout may move at most ${this.deps.limits.transferAmountMaxMinor} minor units`,
      );
    await requireUser(this.deps.shards, input.userId);
    const account = await usableBankAccount(pool, input.userId, input.bankAccountId);
    // Unknown, removed, or another user's: the same answer, so ids cannot be probed.
    if (!account)
      throw new ApiError('bank_account_not_found', `user ${input.userId} has no bank account ${input.bankAccountId}`);
    if (account.currency !== input.currency)
      throw new ApiError('unsupported_currency', `bank account ${input.bankAccountId} takes ${account.currency} only`);
    const { approvalsRequired } = policyFor({ kind: 'withdrawal', amountMinor: input.amountMinor }, this.deps.limits);
    const { record, inserted } = await registerPayout(pool, {
      payoutId,
      userId: input.userId,
      bankAccountId: input.bankAccountId,
      idempotencyKey: input.idempotencyKey,
      requestHash,
      rail: account.details.rail,
      currency: input.currency,
      amountMinor: input.amountMinor,
      // At or over the review threshold it waits for an operator before anything is held; the
      // rule (one operator, or four eyes) is fixed on the record, as a transfer's is.
      status: approvalsRequired > 0 ? 'PENDING_REVIEW' : 'ACCEPTED',
      approvalsRequired,
      initiatedBy: input.opsOperator,
    });
    return { record: await this.started(sameRequest(record, requestHash)), replayed: !inserted };
  }

  /** Starts (or joins) the payout's workflow unless it is final. */
  private async started(record: PayoutRecord): Promise<PayoutRecord> {
    if (!payout_final_statuses.includes(record.status))
      await startPayoutWorkflow(
        {
          client: this.deps.client,
          taskQueue: this.deps.taskQueue,
          timings: this.deps.timings,
          limits: this.deps.limits,
          reviewTimeoutMs: this.deps.reviewTimeoutMs,
        },
        record,
      );
    return record;
  }

  /** Payout ids do not encode a shard: looked up on every shard at once (primary key reads). */
  async find(payoutId: string): Promise<PayoutRecord | undefined> {
    const found = await Promise.all(this.deps.shards.pools.map((pool) => findPayout(pool, payoutId)));
    return found.find((record) => record !== undefined);
  }

  /** The record once it is SETTLED or final, or as it stands after `waitS` seconds or when `gone` aborts. */
  async waitForSettledOrFinal(record: PayoutRecord, waitS: number, gone?: AbortSignal): Promise<PayoutRecord> {
    const deadline = Date.now() + waitS * 1000;
    const pool = this.deps.shards.pool(this.deps.shards.shardOf(record.userId));
    let current = record;
    for (let pollMs = poll_first_ms; ; pollMs = Math.min(pollMs * 2, poll_max_ms)) {
      if (settledOrFinal(current.status)) return current;
      const left = deadline - Date.now();
      if (left <= 0 || gone?.aborted) return current;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
      current = (await findPayout(pool, record.payoutId)) ?? current;
    }
  }

  /**
   * An operator's cancel, approve or reject, as an update to the payout's workflow with an action
   * token made for this operator, action and payout (the workflow verifies it and audits the
   * decision). Refused with 409: cancel once a cutoff took the payout (payout_not_cancelable);
   * approve or reject once it is not held for review (payout_not_in_review), by the owner or its
   * maker (approver_not_independent), or by the same operator twice (second_approver_required).
   */
  async opsAction(
    record: PayoutRecord,
    action: 'cancel' | 'approve' | 'reject',
    operator: string,
    reason: string,
  ): Promise<PayoutRecord> {
    if (action === 'cancel' && record.status === 'CANCELED') return record;
    const { token } = await issueActionToken(this.deps.actionTokens, { operator, action, transferId: record.payoutId });
    const handle = this.deps.client.workflow.getHandle(record.payoutId);
    const update = { cancel: cancelPayoutUpdate, approve: approvePayoutUpdate, reject: rejectPayoutUpdate }[action];
    try {
      await this.deps.client.withDeadline(Date.now() + ops_update_timeout_ms, () =>
        handle.executeUpdate(update, { args: [{ token, reason }] }),
      );
    } catch (error) {
      const refusal = await this.opsRefusal(record, action, error);
      // A cancel that lost to another cancel of the same payout (a client's retry whose first
      // answer was lost while that one still ran, or two operators at once) answers as that one
      // did: the payout is CANCELED, as asked. Its record moved before that update returned.
      if (action === 'cancel' && refusal instanceof ApiError && refusal.code === 'payout_not_cancelable') {
        const current = await this.find(record.payoutId);
        if (current?.status === 'CANCELED') return current;
      }
      if (refusal && refusal.code !== 'service_unavailable')
        await this.auditRefusal(record, { action, operator, reason, refusal });
      throw refusal ?? error;
    }
    return (await this.find(record.payoutId)) ?? record;
  }

  /**
   * A refused request is audited as `refused`, as a transfer's is (activities/ops-actions.ts):
   * the workflow's update validator refused it, so nothing of it reached the workflow's history
   * and the workflow could not write the row; the operator is the one the API authenticated.
   */
  private async auditRefusal(
    record: PayoutRecord,
    request: { action: string; operator: string; reason: string; refusal: ApiError },
  ): Promise<void> {
    await recordOpsAction(this.deps.shards.pool(this.deps.shards.shardOf(record.userId)), {
      operator: request.operator,
      action: 'refused',
      targetType: 'payout',
      targetId: record.payoutId,
      reason: request.reason,
      via: 'update',
      details: { action: request.action, refusal: request.refusal.code, message: request.refusal.message },
    });
  }

  private async opsRefusal(record: PayoutRecord, action: string, error: unknown): Promise<ApiError | undefined> {
    const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && refusal_codes.includes(cause.type as RefusalCode))
      return new ApiError(cause.type as RefusalCode, cause.message);
    if (error instanceof WorkflowNotFoundError || /already completed/i.test((error as Error)?.message ?? '')) {
      const status = (await this.find(record.payoutId))?.status ?? record.status;
      return new ApiError(
        action === 'cancel' ? 'payout_not_cancelable' : 'payout_not_in_review',
        `the payout is ${status}; its workflow has ended`,
      );
    }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError)
      return new ApiError('service_unavailable', 'the payout did not take the request in time; retry', undefined, 1);
    return undefined;
  }

  /** Payouts not final whose status has not changed for `stuckAfterMs`, oldest first, from every shard. */
  async stuck(stuckAfterMs: number, limit: number): Promise<PayoutRecord[]> {
    const before = new Date(Date.now() - stuckAfterMs);
    const found = await Promise.all(
      this.deps.shards.pools.map((pool) => stuckPayouts(pool, before, Math.min(limit, stuck_listed_max))),
    );
    return found
      .flat()
      .sort((a, b) => a.statusChangedAt.getTime() - b.statusChangedAt.getTime())
      .slice(0, limit);
  }
}

function settledOrFinal(status: PayoutStatus): boolean {
  return status === 'SETTLED' || payout_final_statuses.includes(status);
}

function sameRequest(record: PayoutRecord, requestHash: string): PayoutRecord {
  if (record.requestHash !== requestHash)
    throw new ApiError('idempotency_key_reused', 'this idempotency key was already used for a different payout');
  return record;
}
