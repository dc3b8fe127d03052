import type { TransferRecord } from '../ledger/transfers';
import type { StartOutcome } from './start-transfer';

/**
 * Starts recorded transfers at the pace this process's worker finishes them (issue 18). The
 * window is per shard: while fewer than `windowMax` of the transfers it started on each shard a
 * transfer touches are unfinished, the transfer starts at once, inside its request (eagerly: the
 * first workflow task comes back with the start). Past that the request only records the
 * transfer and answers 202, and the start waits here until a transfer on that shard finishes and
 * frees a place, and then goes through the task queue. In a burst the accept then costs one
 * insert instead of an insert, a start and the first workflow task, and the worker runs a
 * bounded number of workflows at once (below its workflow cache) instead of every transfer of
 * the burst interleaved.
 *
 * Per shard, so that transfers stuck on a blocked shard fill only that shard's window: a single
 * window of 64 filled with them in a 30 s lock at 20/s, and transfers among the healthy shards
 * then waited for places (p99 1.8 s instead of 334 ms, `npm run bench -- --mode blocked-shard`).
 * Starts keep their order on each full shard: a deferred transfer is overtaken only by one that
 * does not need the shard it waits for.
 *
 * A deferred start lives only in this process: if the process dies first, the record stays
 * PENDING with no workflow, which is the orphan the sweeper exists for
 * (workers/orphan-sweeper.ts, ORPHAN_AGE_MIN_MS); the sweeper skips the ones still queued here.
 */
export interface StartPacerSettings {
  /** Started and unfinished transfers per shard past which new starts there wait here (TRANSFER_START_WINDOW). */
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
  /** The shards whose ledgers the transfer's legs touch (its parties' shards). */
  shardsOf: (record: TransferRecord) => readonly number[];
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

/** A transfer's places: one on each shard it touches, taken when its start is asked for. */
interface Place {
  shards: readonly number[];
  sinceMs: number;
}

export class StartPacer {
  /** Transfers starting or started here and not seen finish, oldest place first. */
  private readonly places = new Map<string, Place>();
  /** Places taken on each shard. */
  private readonly taken = new Map<number, number>();
  /** Recorded transfers waiting for their start, oldest first. */
  private readonly waiting = new Map<string, { record: TransferRecord; shards: readonly number[] }>();
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
   * Starts the transfer now if its shards have room once the starts waiting here have taken
   * theirs ('eager', 'queued' or 'existing', as startTransferWorkflow says), else queues its
   * start and answers 'deferred'.
   */
  async start(record: TransferRecord): Promise<StartOutcome | 'deferred'> {
    const shards = [...new Set(this.deps.shardsOf(record))];
    if (this.waiting.has(record.transferId)) return 'deferred';
    // Those waiting first: whatever of theirs fits now starts before this one is judged.
    this.pump();
    if (!this.hasRoom(shards)) {
      this.deps.deferred?.();
      this.waiting.set(record.transferId, { record, shards });
      this.deps.waitingNow?.(this.waiting.size);
      this.wakeWhenPlaceExpires();
      return 'deferred';
    }
    this.take(record.transferId, shards);
    this.starting++;
    try {
      const outcome = await this.deps.start(record, { eager: true });
      this.holdPlace(record.transferId);
      return outcome;
    } catch (error) {
      this.free(record.transferId);
      throw error;
    } finally {
      this.starting--;
      this.pump();
    }
  }

  /** A transfer finished in this process: its places go to the next starts waiting on its shards. */
  finished(transferId: string): void {
    if (this.free(transferId)) this.pump();
  }

  private hasRoom(shards: readonly number[]): boolean {
    return shards.every((shard) => count(this.taken, shard) < this.settings.windowMax);
  }

  private take(transferId: string, shards: readonly number[]): void {
    this.places.set(transferId, { shards, sinceMs: this.now() });
    for (const shard of shards) add(this.taken, shard, 1);
  }

  private free(transferId: string): boolean {
    const place = this.places.get(transferId);
    if (!place) return false;
    this.places.delete(transferId);
    for (const shard of place.shards) add(this.taken, shard, -1);
    return true;
  }

  /** The start returned: the place is held from now, unless the transfer already finished. */
  private holdPlace(transferId: string): void {
    const place = this.places.get(transferId);
    if (!place) return;
    this.places.delete(transferId);
    if (this.deps.hasFinished(transferId)) {
      for (const shard of place.shards) add(this.taken, shard, -1);
      return;
    }
    this.places.set(transferId, { shards: place.shards, sinceMs: this.now() });
  }

  private forgetOld(): void {
    const cutoff = this.now() - this.placeHoldMaxMs;
    for (const [transferId, place] of this.places) {
      if (place.sinceMs >= cutoff) break;
      this.free(transferId);
    }
  }

  /**
   * Starts waiting transfers whose shards have room, oldest first. A transfer waiting for a full
   * shard is overtaken by later ones that do not touch that shard (not by those that share only
   * its other, healthy shard: keeping order there let one blocked shard hold up the queues of
   * every shard it trades with, p50 9.8 s for transfers among the healthy shards in the
   * blocked-shard bench). The window alone bounds the start requests open at once: a cap of 8
   * made the engine's start latency the burst's limit on a busy machine. Deferred starts go
   * through the task queue, not eagerly: an eager start's workflow task is timed from the start,
   * and in a burst the busy event loop took it past its 10 s timeout (276 tasks lost and run
   * again in one burst run), while the worker polls a queued task only when it has a slot for
   * it. (What ended the lost tasks was the 10 s place hold; eager and queued deferred starts were
   * not compared with it: docs/performance.md, Admission.)
   */
  private pump(): void {
    this.forgetOld();
    for (const [transferId, { record, shards }] of this.waiting) {
      if (!this.hasRoom(shards)) continue;
      this.waiting.delete(transferId);
      this.deps.waitingNow?.(this.waiting.size);
      this.take(transferId, shards);
      this.starting++;
      void this.deps
        .start(record, { eager: false })
        .then(
          () => this.holdPlace(transferId),
          (error: unknown) => {
            this.free(transferId);
            this.deps.failed(record, error);
          },
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
    const oldest = this.places.values().next().value;
    if (oldest === undefined) return;
    const inMs = Math.max(0, oldest.sinceMs + this.placeHoldMaxMs - this.now()) + 1;
    this.wakeUp = setTimeout(() => {
      this.wakeUp = undefined;
      this.pump();
    }, inMs);
    // A process stopping does not wait for it: the orphan sweeper starts what was left.
    this.wakeUp.unref();
  }
}

function count(counts: Map<number, number>, shard: number): number {
  return counts.get(shard) ?? 0;
}

function add(counts: Map<number, number>, shard: number, delta: number): void {
  const next = count(counts, shard) + delta;
  if (next === 0) counts.delete(shard);
  else counts.set(shard, next);
}
