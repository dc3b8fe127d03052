import type { TransferCompletions } from '../temporal-client/transfer-completions';

/**
 * Load shedding for the process that runs both the API and the worker. Past its capacity a
 * Temporal worker does not slow down gracefully: workflow tasks queue behind the CPU, eager
 * starts fall back to the task queue, waits time out and clients retry, and completed
 * throughput collapses (docs/performance.md, Overload). So the process accepts at most
 * `max` transfers that it started and has not yet seen finish; past that, a new request is
 * refused at once with a retryable answer (the idempotency key makes the retry safe), before
 * anything is recorded.
 */
export class InFlightTransfers {
  /** Started here, not yet finished: transfer id -> when it started. */
  private readonly started = new Map<string, number>();
  /** Requests admitted and still on their way to a start. */
  private reserved = 0;

  constructor(
    private readonly max: number,
    private readonly completions: TransferCompletions,
    /** A transfer that finished in another process is never heard of here; after this long it no longer counts. */
    private readonly forgetAfterMs = 60_000,
  ) {
    this.completions.onFinished((transferId) => this.started.delete(transferId));
  }

  /** A slot for one request, or undefined when the process is full. */
  reserve(): { startedAs: (transferId: string) => void; release: () => void } | undefined {
    this.forgetOld();
    if (this.started.size + this.reserved >= this.max) return undefined;
    this.reserved++;
    let held = true;
    const release = () => {
      if (held) this.reserved--;
      held = false;
    };
    return {
      release,
      startedAs: (transferId) => {
        release();
        // An eagerly started transfer may have finished before its start call returned.
        if (!this.completions.hasFinished(transferId)) this.started.set(transferId, Date.now());
      },
    };
  }

  private forgetOld(): void {
    const cutoff = Date.now() - this.forgetAfterMs;
    for (const [transferId, startedAt] of this.started) {
      if (startedAt >= cutoff) break;
      this.started.delete(transferId);
    }
  }
}
