import type { TransferRecord } from '../ledger/transfers';
import type { StartOutcome } from './start-transfer';

/**
 * Starts recorded transfers at the pace this process's worker finishes them (issue 18). While
 * fewer than `windowMax` transfers it started are unfinished, a transfer starts at once, inside
 * its request (eagerly: the first workflow task comes back with the start). Past that the
 * request only records the transfer and answers 202, and the start waits here, in order, until
 * a transfer finishes and frees a place, and then goes through the task queue. In a burst the
 * accept then costs one insert instead of an insert, a start and the first workflow task, and
 * the worker runs a bounded number of workflows at once (below its workflow cache) instead of
 * every transfer of the burst interleaved.
 *
 * A deferred start lives only in this process: if the process dies first, the record stays
 * PENDING with no workflow, which is the orphan the sweeper exists for
 * (workers/orphan-sweeper.ts, ORPHAN_AGE_MIN_MS); the sweeper skips the ones still queued here.
 */
export interface StartPacerSettings {
  /** Started and unfinished transfers past which new starts wait here (TRANSFER_START_WINDOW). */
  windowMax: number;
  /**
   * A started transfer stops holding a place after this: one not finished by then waits on
   * something other than this worker (a retrying leg, a blocked shard, another process), and
   * must not keep the others' starts waiting.
   */
  placeHoldMaxMs?: number;
}

export interface StartPacerDependencies {
  /**
   * Starts one transfer's workflow: eagerly on this process's worker inside its request, through
   * the task queue when deferred (see pump).
   */
  start: (record: TransferRecord, how: { eager: boolean }) => Promise<StartOutcome>;
  /** True when the transfer already finished in this process (TransferCompletions). */
  hasFinished: (transferId: string) => boolean;
  /** A start was deferred (counted once per transfer). */
  deferred?: () => void;
  /** The number of starts waiting changed. */
  waitingNow?: (count: number) => void;
  /** A deferred start failed: the record stays for the orphan sweeper. */
  failed: (record: TransferRecord, error: unknown) => void;
  now?: () => number;
}

const place_hold_max_ms_default = 10_000;

export class StartPacer {
  /** Transfers started here and not seen finish, with when they started, oldest first. */
  private readonly started = new Map<string, number>();
  /** Recorded transfers waiting for their start, oldest first. */
  private readonly waiting = new Map<string, TransferRecord>();
  private starting = 0;
  /** Set while starts wait for places that only time frees (every started transfer is stuck). */
  private wakeUp: NodeJS.Timeout | undefined;
  private readonly placeHoldMaxMs: number;
  private readonly now: () => number;

  constructor(
    private readonly deps: StartPacerDependencies,
    private readonly settings: StartPacerSettings,
  ) {
    this.placeHoldMaxMs = settings.placeHoldMaxMs ?? place_hold_max_ms_default;
    this.now = deps.now ?? Date.now;
  }

  /** Transfers whose start waits here. */
  get deferred(): number {
    return this.waiting.size;
  }

  /** True when the transfer's start waits here (the orphan sweeper leaves it alone). */
  isDeferred(transferId: string): boolean {
    return this.waiting.has(transferId);
  }

  /**
   * Starts the transfer now if a place is free and nobody waits ('eager', 'queued' or
   * 'existing', as startTransferWorkflow says), else queues its start and answers 'deferred'.
   */
  async start(record: TransferRecord): Promise<StartOutcome | 'deferred'> {
    if (this.waiting.size > 0 || !this.hasPlace()) {
      if (!this.waiting.has(record.transferId)) this.deps.deferred?.();
      this.waiting.set(record.transferId, record);
      this.deps.waitingNow?.(this.waiting.size);
      // Places also free up with time (see placeHoldMaxMs): every request looks.
      this.pump();
      return 'deferred';
    }
    this.starting++;
    try {
      const outcome = await this.deps.start(record, { eager: true });
      this.holdPlace(record.transferId);
      return outcome;
    } finally {
      this.starting--;
      this.pump();
    }
  }

  /** A transfer finished in this process: its place goes to the next start waiting. */
  finished(transferId: string): void {
    if (this.started.delete(transferId)) this.pump();
  }

  private hasPlace(): boolean {
    this.forgetOld();
    return this.started.size + this.starting < this.settings.windowMax;
  }

  private holdPlace(transferId: string): void {
    // An eager start's transfer may have finished before its start call returned.
    if (this.deps.hasFinished(transferId)) return;
    this.started.delete(transferId);
    this.started.set(transferId, this.now());
  }

  private forgetOld(): void {
    const cutoff = this.now() - this.placeHoldMaxMs;
    for (const [transferId, startedAtMs] of this.started) {
      if (startedAtMs >= cutoff) break;
      this.started.delete(transferId);
    }
  }

  /**
   * Starts waiting transfers while places are free. The window alone bounds the start requests
   * open at once: a cap of 8 made the engine's start latency the burst's limit on a busy machine.
   * Deferred starts go through the task queue, not eagerly: an eager start's workflow task is
   * timed from the start, and in a burst the busy event loop took it past its 10 s timeout
   * (276 tasks lost and run again in one burst run), while the worker polls a queued task only
   * when it has a slot for it. (What ended the lost tasks was the 10 s place hold; eager and
   * queued deferred starts were not compared with it: docs/performance.md, Admission.)
   */
  private pump(): void {
    while (this.waiting.size > 0 && this.hasPlace()) {
      const [transferId, record] = this.waiting.entries().next().value!;
      this.waiting.delete(transferId);
      this.deps.waitingNow?.(this.waiting.size);
      this.starting++;
      void this.deps
        .start(record, { eager: false })
        .then(
          () => this.holdPlace(transferId),
          (error: unknown) => this.deps.failed(record, error),
        )
        .finally(() => {
          this.starting--;
          this.pump();
        });
    }
    this.wakeWhenPlaceExpires();
  }

  /** With starts waiting and no start or finish to come, the oldest place expiring is the next chance. */
  private wakeWhenPlaceExpires(): void {
    if (this.waiting.size === 0 || this.starting > 0 || this.wakeUp) return;
    const oldestStartMs = this.started.values().next().value;
    if (oldestStartMs === undefined) return;
    const inMs = Math.max(0, oldestStartMs + this.placeHoldMaxMs - this.now()) + 1;
    this.wakeUp = setTimeout(() => {
      this.wakeUp = undefined;
      this.pump();
    }, inMs);
    // A process stopping does not wait for it: the orphan sweeper starts what was left.
    this.wakeUp.unref();
  }
}
