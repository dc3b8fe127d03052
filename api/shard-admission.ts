/**
 * Admission by queueing delay, per shard (issue 18). A transfer request is accepted with 202 and
 * finished by a durable workflow: the engine is the queue, and a queue is fine as long as the
 * wait in it stays reasonable. So instead of counting transfers in flight, this estimates, for
 * each shard a transfer touches, how long the work already ahead of it on that shard needs, and
 * admits while that stays under the caller's target: ADMISSION_TARGET for an asynchronous
 * request, the request's own `?wait` for a waiting one. The signal is CoDel's: delay, not
 * length, because a queue of 3,000 on a shard that finishes 50 a second is a minute of work and
 * fine, while a queue of 5 on a shard that finishes none is forever.
 *
 * For a shard the estimate is the larger of
 * - its backlog: transfers touching it that this process started and has not seen finish (plus
 *   the one asking), divided by the shard's capacity: the larger of its measured completion rate
 *   (an EWMA of completions per second, updated only over seconds in which it had work, so an
 *   idle shard keeps its last measure, and lowered only by seconds that ended with work waiting,
 *   so a shard is not judged by its light demand) and that rate's recent peak, which decays with
 *   a time constant of 45 s; never below a floor. The peak is there for the seconds spent
 *   accepting a burst: the process is busy recording transfers, completions lag, and the EWMA
 *   alone fell far enough to refuse the end of a burst the shard then finished well within the
 *   target. A shard that is really slower still lowers the estimate once the peak has decayed,
 *   within a minute or two, and
 * - its stall: how long it has had work and finished none. A blocked shard finishes nothing, so
 *   its stall grows by a second a second and passes any target, whatever the rate estimate said;
 *   a healthy shard finishes something every few milliseconds. (Not the age of the oldest
 *   transfer: one retrying debit must not refuse a shard that keeps finishing others.)
 *
 * The class is pure: the clock is passed in, and nothing here does input or output.
 */
export interface AdmissionSettings {
  /** The most transfers the process holds in flight, all shards together: the memory and workflow-cache safety net. */
  ceiling: number;
  /** Completions per second a shard is assumed to manage before any was measured. */
  ratePriorPerS?: number;
  /** The measured rate is never taken as lower than this (a quiet shard's completions measure its demand, not its capacity). */
  rateFloorPerS?: number;
  /** A transfer never heard of again (it finished in another process) stops counting after this. */
  forgetAfterMs?: number;
}

/** Who asks: ops requests (deposits, withdrawals by an operator) get headroom customers cannot take. */
export interface AdmissionAsk {
  /** The delay the caller accepts: ADMISSION_TARGET, or the request's `?wait`. */
  targetMs: number;
  ops: boolean;
}

export type AdmissionDecision =
  | { admitted: true; ticket: AdmissionTicket }
  | { admitted: false; reason: 'delay' | 'ceiling'; shard: number | null; estimateMs: number; retryAfterS: number };

/** One admitted request on its way to a start: it counts from admission, so racing requests see each other. */
export interface AdmissionTicket {
  /** The workflow started (or joined a running one): the transfer counts until it finishes. */
  startedAs: (transferId: string) => void;
  /** Nothing started (refused, failed, final already): stop counting. Safe to call more than once. */
  release: () => void;
}

/**
 * Ops requests are admitted up to this multiple of their target (and of the ceiling's customer
 * share): customers alone cannot push the estimate past their own target, so an operator's
 * deposit always finds room unless the shard itself is stuck.
 */
export const ops_headroom = 1.25;
/** This share of the ceiling (rounded down) is kept for ops requests: customers may fill only the rest. */
const ops_ceiling_share = 0.1;
const rate_prior_per_s_default = 20;
const rate_floor_per_s_default = 5;
const forget_after_ms_default = 10 * 60_000;
/** Weight of the newest one-second sample in the rate EWMA (about a 5 s memory). */
const rate_ewma_weight = 0.2;
/** Time constant of the peak rate's decay: after 45 s it counts 37%, after 2 minutes 7%. */
const rate_peak_decay_ms = 45_000;
const rate_sample_ms = 1_000;
/** Retry-After is the estimate's excess over the target, within these bounds. */
const retry_after_min_s = 1;
const retry_after_max_s = 60;

class ShardQueue {
  /** Transfers touching this shard, started here and not yet seen finish. */
  readonly running = new Set<string>();
  /** Admitted requests not yet started. */
  reserved = 0;
  /** The EWMA of completions per second. */
  ratePerS: number;
  /** The highest EWMA lately, and when it was reached: it decays from there (see peakPerS). */
  private peakRatePerS: number;
  private peakAtMs: number;
  /** Completions in the current one-second sample, and when it began. */
  private sampleCount = 0;
  private sampleStartMs: number;
  private sampleBusy = false;
  /** When the shard last finished something, or last went from idle to busy. */
  private progressAtMs: number;

  constructor(ratePriorPerS: number, nowMs: number) {
    this.ratePerS = ratePriorPerS;
    this.peakRatePerS = ratePriorPerS;
    this.peakAtMs = nowMs;
    this.sampleStartMs = nowMs;
    this.progressAtMs = nowMs;
  }

  get length(): number {
    return this.running.size + this.reserved;
  }

  /** Called before the queue grows from empty: idle time is no stall. */
  becomingBusy(nowMs: number): void {
    this.roll(nowMs);
    if (this.length === 0) this.progressAtMs = nowMs;
    this.sampleBusy = true;
  }

  finishedOne(nowMs: number): void {
    this.roll(nowMs);
    this.sampleCount++;
    this.progressAtMs = nowMs;
  }

  /** The EWMA's peak, decayed exponentially since it was reached. */
  peakPerS(nowMs: number): number {
    return this.peakRatePerS * Math.exp(-Math.max(0, nowMs - this.peakAtMs) / rate_peak_decay_ms);
  }

  /** What the shard is taken to finish per second: the EWMA, or its recent peak if higher. */
  capacityPerS(nowMs: number): number {
    return Math.max(this.ratePerS, this.peakPerS(nowMs));
  }

  stallMs(nowMs: number): number {
    return this.running.size === 0 ? 0 : nowMs - this.progressAtMs;
  }

  /** Folds every finished one-second sample into the rate; seconds without work leave it as it was. */
  roll(nowMs: number): void {
    while (nowMs - this.sampleStartMs >= rate_sample_ms) {
      const observed = (this.sampleCount * 1000) / rate_sample_ms;
      // Completions are a lower bound of what the shard can do. A second shows it can do less
      // only if work was still waiting at its end (at least a second's worth): a light background
      // finishes a few a second with nothing waiting, and taking that demand for capacity
      // refused the start of a burst that the shard then finished well within the target.
      const backlogged = this.length >= Math.max(1, this.sampleCount);
      if ((this.sampleBusy || this.sampleCount > 0) && (observed > this.ratePerS || backlogged)) {
        this.ratePerS = rate_ewma_weight * observed + (1 - rate_ewma_weight) * this.ratePerS;
      }
      const sampleEndMs = this.sampleStartMs + rate_sample_ms;
      if (this.ratePerS >= this.peakPerS(sampleEndMs)) {
        this.peakRatePerS = this.ratePerS;
        this.peakAtMs = sampleEndMs;
      }
      this.sampleCount = 0;
      this.sampleBusy = this.length > 0;
      this.sampleStartMs += rate_sample_ms;
      // After a long idle spell, skip the empty seconds at once.
      if (!this.sampleBusy && nowMs - this.sampleStartMs >= rate_sample_ms) {
        this.sampleStartMs = nowMs - ((nowMs - this.sampleStartMs) % rate_sample_ms);
      }
    }
  }
}

export class ShardAdmission {
  private readonly queues: ShardQueue[];
  /** Every transfer counted, with its shards and when it started, oldest first. */
  private readonly running = new Map<string, { shards: readonly number[]; startedAtMs: number }>();
  private reservedTotal = 0;
  private readonly rateFloorPerS: number;
  private readonly forgetAfterMs: number;

  constructor(
    shardCount: number,
    private readonly settings: AdmissionSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.rateFloorPerS = settings.rateFloorPerS ?? rate_floor_per_s_default;
    this.forgetAfterMs = settings.forgetAfterMs ?? forget_after_ms_default;
    const prior = settings.ratePriorPerS ?? rate_prior_per_s_default;
    this.queues = Array.from({ length: shardCount }, () => new ShardQueue(prior, now()));
  }

  /** Seconds of work ahead of a new transfer on this shard. */
  estimateMs(shard: number): number {
    const nowMs = this.now();
    this.forgetOld(nowMs);
    const queue = this.queue(shard);
    queue.roll(nowMs);
    const backlogMs = ((queue.length + 1) * 1000) / Math.max(queue.capacityPerS(nowMs), this.rateFloorPerS);
    return Math.max(backlogMs, queue.stallMs(nowMs));
  }

  /** The measured completion rate of a shard (completions per second, the EWMA), for metrics and tests. */
  ratePerS(shard: number): number {
    const queue = this.queue(shard);
    queue.roll(this.now());
    return queue.ratePerS;
  }

  /** What the estimate takes a shard to finish per second: the EWMA or its decaying peak, whichever is higher. */
  capacityPerS(shard: number): number {
    const nowMs = this.now();
    const queue = this.queue(shard);
    queue.roll(nowMs);
    return queue.capacityPerS(nowMs);
  }

  /** Transfers counted (started or on their way), all shards together. */
  get inFlight(): number {
    return this.running.size + this.reservedTotal;
  }

  /** Admits a transfer touching `shards` (one or two), or says why not and when to come back. */
  admit(shards: readonly number[], ask: AdmissionAsk): AdmissionDecision {
    const touched = [...new Set(shards)];
    const headroom = ask.ops ? ops_headroom : 1;
    const ceiling = this.settings.ceiling - (ask.ops ? 0 : Math.floor(this.settings.ceiling * ops_ceiling_share));
    if (this.inFlight >= ceiling) {
      return { admitted: false, reason: 'ceiling', shard: null, estimateMs: 0, retryAfterS: retry_after_min_s };
    }
    const targetMs = ask.targetMs * headroom;
    for (const shard of touched) {
      const estimateMs = this.estimateMs(shard);
      if (estimateMs >= targetMs) {
        return { admitted: false, reason: 'delay', shard, estimateMs, retryAfterS: retryAfterOf(estimateMs, targetMs) };
      }
    }
    return { admitted: true, ticket: this.reserve(touched) };
  }

  /** A transfer finished in this process; unknown ids (started elsewhere, held for review) are ignored. */
  finished(transferId: string): void {
    const entry = this.running.get(transferId);
    if (!entry) return;
    this.running.delete(transferId);
    const nowMs = this.now();
    for (const shard of entry.shards) {
      const queue = this.queue(shard);
      queue.running.delete(transferId);
      queue.finishedOne(nowMs);
    }
  }

  private reserve(shards: readonly number[]): AdmissionTicket {
    const nowMs = this.now();
    for (const shard of shards) {
      const queue = this.queue(shard);
      queue.becomingBusy(nowMs);
      queue.reserved++;
    }
    this.reservedTotal++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.reservedTotal--;
      for (const shard of shards) this.queue(shard).reserved--;
    };
    return {
      release,
      startedAs: (transferId) => {
        if (!held) return;
        release();
        if (this.running.has(transferId)) return;
        this.running.set(transferId, { shards, startedAtMs: this.now() });
        for (const shard of shards) this.queue(shard).running.add(transferId);
      },
    };
  }

  private forgetOld(nowMs: number): void {
    const cutoff = nowMs - this.forgetAfterMs;
    for (const [transferId, entry] of this.running) {
      if (entry.startedAtMs >= cutoff) break;
      this.running.delete(transferId);
      for (const shard of entry.shards) this.queue(shard).running.delete(transferId);
    }
  }

  private queue(shard: number): ShardQueue {
    const queue = this.queues[shard];
    if (!queue) throw new Error(`no shard ${shard} (have ${this.queues.length})`);
    return queue;
  }
}

function retryAfterOf(estimateMs: number, targetMs: number): number {
  const excessS = Math.ceil((estimateMs - targetMs) / 1000);
  return Math.min(retry_after_max_s, Math.max(retry_after_min_s, excessS));
}
