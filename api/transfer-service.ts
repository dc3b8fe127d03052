import type { Client } from '@temporalio/client';
import type { Registry } from 'prom-client';
import type { ShardSet } from '../db/shards';
import { exceedsTransferMax, policyFor, type TransferLimits } from '../domain/transfer-policy';
import { requestHashOf, transferIdFor } from '../domain/transfer-ids';
import { final_statuses, ownerOf, type Transfer } from '../domain/transfers';
import { legsOf, type LegRecord } from '../ledger/postings';
import { findTransfer, registerTransfer, type NewTransfer, type TransferRecord } from '../ledger/transfers';
import type { TransferTimings } from '../workflows/activity-options';
import { heldBy, transferOf, startTransferWorkflow, type StartOutcome } from '../temporal-client/start-transfer';
import type { StartPacer } from '../temporal-client/start-pacer';
import { ShardAdmission, type AdmissionTicket } from './shard-admission';
import { ShardGate } from './shard-gate';
import { admissionMetrics, type AdmissionMetrics } from '../metrics/admission-metrics';
import type { TransferCompletions } from '../temporal-client/transfer-completions';
import { TransferDurations } from '../metrics/transfer-durations';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import { requireSupportedCurrencies } from './currencies';
import { ApiError } from './errors';
import type { ConversionTarget, FxService } from './fx-service';
import { requireUser } from './require-user';

/** How an accepted transfer's start went: 'deferred' leaves it to the pacer, 'final' needed none. */
export type TransferStart = StartOutcome | 'deferred' | 'final';

/** A transfer as a client asks for it: no id yet (the key decides it). */
export interface SubmitTransfer extends Omit<Transfer, 'transferId' | 'conversion'> {
  idempotencyKey: string;
  /** The operator (token sub) when an ops token made the request: audited. */
  opsOperator: string | null;
  /** A cross-currency transfer: the currency the recipient gets, and the quote fixing the rate, if any. */
  target?: ConversionTarget;
}

export interface AdmissionOptions {
  /** ADMISSION_TARGET: the delay ahead of an asynchronous (202) request past which it is refused. */
  targetMs: number;
  /** TRANSFERS_IN_FLIGHT_CEILING: the most transfers the process holds in flight, all shards together. */
  ceiling: number;
  /** Where the per-shard estimate and refusals are published. */
  registry: Registry;
}

export interface TransferServiceDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
  /** The wallet's currencies (CURRENCIES): any other is unsupported_currency. */
  currencies: ReadonlySet<string>;
  /** wallet_transfer_duration_seconds, observed when a worker shares this process. */
  transferSeconds: WalletMetrics['transferSeconds'];
  /** Present when a worker shares this process: eager starts, and `?wait` answered from in-process news. */
  completions?: TransferCompletions;
  /** With completions: admission by queueing delay per shard (api/shard-admission.ts). */
  admission?: AdmissionOptions;
  /** With completions: starts paced to this process's worker, deferred past its window (temporal-client/start-pacer.ts). */
  startPacer?: StartPacer;
  fx: FxService;
}

/** While waiting, the record is also re-read this often, in case the news never comes (another process ran the transfer). */
const recheck_ms = 1_000;
/** Without in-process news, the record is polled from this interval, doubling up to the maximum. */
const poll_first_ms = 50;
const poll_max_ms = 500;

/**
 * Accepts transfer requests exactly once. The durable record on the owner's shard is written
 * first: its unique key decides whether this is a new transfer, a retry (same body), or a
 * reused key (other body: refused). Only then is the workflow started, with the transfer id as
 * its workflow id, so racing retries converge on one workflow.
 */
export class TransferService {
  private readonly admission: { shards: ShardAdmission; targetMs: number; metrics: AdmissionMetrics } | undefined;
  private readonly durations: TransferDurations | undefined;
  private readonly gate: ShardGate;

  constructor(private readonly deps: TransferServiceDependencies) {
    // As many requests per shard as it has connections: the rest of its queue stays the legs'.
    this.gate = new ShardGate(deps.shards.count, deps.shards.poolSize, gate_wait_max_ms);
    if (deps.completions && deps.admission) {
      const shards = new ShardAdmission(deps.shards.count, { ceiling: deps.admission.ceiling });
      deps.completions.onFinished((transferId) => shards.finished(transferId));
      this.admission = {
        shards,
        targetMs: deps.admission.targetMs,
        metrics: admissionMetrics(deps.admission.registry, shards, deps.shards.count),
      };
    }
    this.durations = deps.completions ? new TransferDurations(deps.completions, deps.transferSeconds) : undefined;
  }

  async submit(
    input: SubmitTransfer,
    /** The request's `?wait` in seconds, if it waits: its own target for admission. */
    waitS?: number,
  ): Promise<{ record: TransferRecord; replayed: boolean; start: TransferStart }> {
    requireSupportedCurrencies(this.deps.currencies, input.currency, ...(input.target ? [input.target.currency] : []));
    // Converting between one's own currencies is a transfer to oneself; moving within one wallet is not.
    if (input.fromUserId !== null && input.fromUserId === input.toUserId && !input.target) {
      throw new ApiError('same_user', 'a transfer needs two different users (or a target_currency to convert into)');
    }
    if (exceedsTransferMax(input, this.deps.limits)) {
      throw new ApiError(
        'limit_exceeded',
        `one ${input.kind} may move at most ${this.deps.limits.transferAmountMaxMinor} minor units`,
      );
    }
    const slot = this.admit(input, waitS);
    const acceptedAtMs = performance.now();
    try {
      return await this.recordAndStart(input, this.admission && this.targetOf(waitS), (transferId) => {
        // An eagerly started transfer may have finished before its start call returned.
        if (!this.deps.completions?.hasFinished(transferId)) slot?.startedAs(transferId);
        this.durations?.started(transferId, acceptedAtMs);
      });
    } finally {
      slot?.release();
    }
  }

  /**
   * A place in the shards' queues, or 503 overloaded when the work ahead on a shard the
   * transfer touches would outlast the caller's target (ADMISSION_TARGET, or its `?wait`).
   * A transfer held for an operator's review waits for a person, not for the shard: it is
   * admitted by the same rule but not counted once started.
   */
  private admit(input: SubmitTransfer, waitS: number | undefined): AdmissionTicket | undefined {
    if (!this.admission) return undefined;
    const { shards, metrics } = this.admission;
    const decision = shards.admit(this.deps.shards.shardsOfParties(input), {
      targetMs: this.targetOf(waitS),
      ops: input.opsOperator !== null,
    });
    if (!decision.admitted) {
      metrics.refused(decision.shard, decision.reason);
      throw new ApiError(
        'overloaded',
        decision.reason === 'ceiling'
          ? 'the wallet process holds as many transfers as it may; retry with the same idempotency key'
          : `the work queued on shard ${decision.shard} would take about ${Math.ceil(decision.estimateMs / 1000)} s, more than this request's target; retry with the same idempotency key`,
        undefined,
        decision.retryAfterS,
      );
    }
    const held = policyFor(input, this.deps.limits).approvalsRequired > 0;
    if (!held) return decision.ticket;
    decision.ticket.release();
    return undefined;
  }

  /** The delay the caller accepts: its `?wait`, else ADMISSION_TARGET. */
  private targetOf(waitS: number | undefined): number {
    return waitS !== undefined && waitS > 0 ? waitS * 1000 : (this.admission?.targetMs ?? gate_wait_max_ms);
  }

  private async recordAndStart(
    input: SubmitTransfer,
    /** An admitted request's target: its turn at a shard's connections may take that long. */
    gateWaitMaxMs: number | undefined,
    started: (transferId: string) => void,
  ): Promise<{ record: TransferRecord; replayed: boolean; start: TransferStart }> {
    // The owner's existence is checked by the record's foreign key, in the same statement.
    const counterparty = input.kind === 'transfer' ? input.toUserId : null;
    if (counterparty !== null && !this.knownUsers.has(counterparty)) {
      await this.gate.run(
        this.deps.shards.shardOf(counterparty),
        () => requireUser(this.deps.shards, counterparty),
        gateWaitMaxMs,
      );
      this.rememberUser(counterparty);
    }
    const { target, ...asked } = input;
    const ownerUserId = ownerOf(asked);
    const transferId = transferIdFor(asked.kind, ownerUserId, asked.idempotencyKey);
    const requestHash = requestHashOf(asked, target);
    const ownerShard = this.deps.shards.shardOf(ownerUserId);
    const newTransfer: NewTransfer = {
      ...asked,
      transferId,
      ownerUserId,
      requestHash,
      approvalsRequired: policyFor(asked, this.deps.limits).approvalsRequired,
    };
    const registering = this.gate.run(
      ownerShard,
      () =>
        target && asked.fromUserId !== null
          ? this.deps.fx.register({ ...newTransfer, fromUserId: asked.fromUserId }, target)
          : registerTransfer(this.deps.shards.pool(ownerShard), newTransfer),
      gateWaitMaxMs,
    );
    const { record, inserted } = await registering.catch((error: unknown) => {
      if (isUnknownOwner(error)) throw new ApiError('user_not_found', `user ${ownerUserId} does not exist`);
      throw error;
    });
    this.rememberOwnerShard(transferId, ownerShard);
    this.rememberUser(ownerUserId);
    if (record.requestHash !== requestHash) {
      throw new ApiError('idempotency_key_reused', 'this idempotency key was already used for a different request');
    }
    // A retry of a finished transfer starts nothing.
    const start = final_statuses.includes(record.status) ? 'final' : await this.start(record);
    // A deferred transfer counts from now: it is work queued ahead of the next request.
    if (start === 'eager' || start === 'queued' || start === 'deferred') started(transferId);
    return { record, replayed: !inserted, start };
  }

  /**
   * Through the pacer when this process runs the transfers: at once while its worker has room,
   * else deferred. A transfer held for review starts at once: its workflow waits for a person,
   * not for the worker.
   */
  private async start(record: TransferRecord): Promise<StartOutcome | 'deferred'> {
    const pacer = this.deps.startPacer;
    if (pacer && record.status === 'PENDING') return pacer.start(record);
    return startTransferWorkflow(
      { ...this.deps, eagerStart: this.deps.completions !== undefined },
      transferOf(record),
      heldBy(record),
    );
  }

  /**
   * Waits up to waitS seconds for the transfer to become final, then reads the durable record
   * from its owner's shard. With a worker in this process the news comes in-process when the
   * deciding leg commits (the record is re-read every second besides, in case another process
   * ran it). Without one (`npm run api`), the record is polled, from every 50 ms backing off to
   * every 500 ms: the workflow's result is no signal, because a completed transfer's workflow
   * stays open for its reversal window.
   */
  /**
   * The record once it is final, or as it stands after `waitS` seconds, or as soon as `gone`
   * aborts (the client hung up). Nothing outlives the call: no poll, timer or listener.
   */
  async waitForFinal(record: TransferRecord, waitS: number, gone?: AbortSignal): Promise<TransferRecord> {
    if (final_statuses.includes(record.status) || waitS <= 0 || gone?.aborted) return record;
    const ownerPool = this.deps.shards.pool(this.deps.shards.shardOf(record.ownerUserId));
    const reread = async () => (await findTransfer(ownerPool, record.transferId)) ?? record;
    const waiting = new AbortController();
    const deadline = setTimeout(() => waiting.abort(), waitS * 1000);
    const stopWaiting = () => waiting.abort();
    gone?.addEventListener('abort', stopWaiting, { once: true });
    try {
      // News comes once (at once if the transfer finished since the record was read); after
      // it, only the periodic re-read is left to wait on.
      let news: Promise<unknown> | undefined = this.deps.completions?.next(record.transferId, waiting.signal);
      for (
        let pollMs = news ? recheck_ms : poll_first_ms;
        ;
        pollMs = news ? recheck_ms : Math.min(pollMs * 2, poll_max_ms)
      ) {
        const heard = news?.then(() => 'news' as const);
        if ((await Promise.race([sleep(pollMs, waiting.signal), ...(heard ? [heard] : [])])) === 'news')
          news = undefined;
        const current = await reread();
        if (final_statuses.includes(current.status) || waiting.signal.aborted) return current;
      }
    } finally {
      clearTimeout(deadline);
      gone?.removeEventListener('abort', stopWaiting);
      waiting.abort();
    }
  }

  /** The transfer's legs as the ledger decided them, from the shards of both parties. */
  async legsOf(record: TransferRecord): Promise<LegRecord[]> {
    const legs = await Promise.all(
      this.deps.shards.shardsOfParties(record).map((shard) => legsOf(this.deps.shards.pool(shard), record.transferId)),
    );
    const order = { debit: 0, credit: 1, refund: 2, reversal_debit: 3, reversal_credit: 4 };
    return legs.flat().sort((a, b) => order[a.leg] - order[b.leg]);
  }

  /**
   * Transfer ids do not encode a shard: the record is read from the owner's shard when this
   * process accepted the transfer, else looked up on every shard at once (primary key reads).
   */
  async find(transferId: string): Promise<TransferRecord | undefined> {
    const knownShard = this.ownerShards.get(transferId);
    if (knownShard !== undefined) return findTransfer(this.deps.shards.pool(knownShard), transferId);
    const found = await Promise.all(this.deps.shards.pools.map((pool) => findTransfer(pool, transferId)));
    return found.find((record) => record !== undefined);
  }

  /** A transfer's owner shard never changes, so remembering it cannot go stale; bounded, oldest dropped first. */
  private readonly ownerShards = new Map<string, number>();

  private rememberOwnerShard(transferId: string, shard: number): void {
    this.ownerShards.set(transferId, shard);
    if (this.ownerShards.size > owner_shards_remembered_max)
      this.ownerShards.delete(this.ownerShards.keys().next().value!);
  }

  /**
   * Users seen to exist: the recipient's existence is checked on its own shard, a round trip per
   * transfer, and a user is never deleted (a closed or frozen one is refused by the legs), so one
   * seen once is not looked up again. Bounded, oldest dropped first.
   */
  private readonly knownUsers = new Set<string>();

  private rememberUser(userId: string): void {
    this.knownUsers.add(userId);
    if (this.knownUsers.size > known_users_max) this.knownUsers.delete(this.knownUsers.values().next().value!);
  }
}

/** A request without an admission target (a split API process) waits this long for its turn at a shard's connections before it is refused (503). */
const gate_wait_max_ms = 10_000;

/** Users remembered to exist, so transfers to them skip the lookup on their shard. */
const known_users_max = 100_000;

/** Transfers accepted by this process whose owner shard is remembered for reads. */
const owner_shards_remembered_max = 100_000;

/** The record's foreign key to users refused the owner: no such user on the owner's shard. */
function isUnknownOwner(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23503' && constraint === 'transfers_owner_user_id_fkey';
}

function sleep(ms: number, signal: AbortSignal): Promise<'slept'> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve('slept');
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}
