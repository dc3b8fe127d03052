import { ShardBusyError } from '../db/shards';

/**
 * Admitted transfer requests take their turn for a shard's connections here, in the process,
 * instead of in the pool's own queue. The pool refuses callers past a small bound at once
 * (ShardBusyError), so that a blocked shard's ledger legs cannot take the worker's slots; a burst
 * of requests sent at the same instant would meet that bound and be refused although admission
 * had accepted them. Through the gate at most `concurrency` requests per shard use or wait for
 * its connections (leaving the rest of the pool's queue to the legs), and the others wait their
 * turn in order, for at most `waitMaxMs`: a shard that does not answer still refuses, 503. An
 * admitted transfer request waits up to its admission target instead: admission already judged
 * that the work ahead of it fits in that time, and a short fixed bound refused most of a burst
 * that admission had let in (docs/performance.md, "Admission").
 */
export class ShardGate {
  private readonly shards: { running: number; waiting: (() => void)[] }[];

  constructor(
    shardCount: number,
    private readonly concurrency: number,
    private readonly waitMaxMs: number,
  ) {
    this.shards = Array.from({ length: shardCount }, () => ({ running: 0, waiting: [] }));
  }

  async run<T>(
    shard: number,
    work: () => Promise<T>,
    /** This request's own bound on its wait, if it has one (an admitted transfer: its admission target). */
    waitMaxMs = this.waitMaxMs,
  ): Promise<T> {
    const state = this.shards[shard];
    if (!state) throw new Error(`no shard ${shard} (have ${this.shards.length})`);
    if (state.running >= this.concurrency) await this.turn(state, shard, waitMaxMs);
    else state.running++;
    try {
      return await work();
    } finally {
      const next = state.waiting.shift();
      // The slot passes straight to the next in line, so nobody overtakes it.
      if (next) next();
      else state.running--;
    }
  }

  private turn(state: { waiting: (() => void)[] }, shard: number, waitMaxMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        state.waiting.splice(state.waiting.indexOf(go), 1);
        reject(new ShardBusyError(`shard ${shard}: waited ${waitMaxMs} ms for a turn at its connections`));
      }, waitMaxMs);
      state.waiting.push(go);
    });
  }
}
