/**
 * In-process news of transfers whose durable record just became final. When the API and the
 * worker share a process (the single-machine default), `?wait` learns that a transfer finished
 * from here, the moment the deciding leg commits, instead of long-polling the workflow's result
 * through Temporal (a round trip through the engine per transfer). Split deployments never get
 * news here and fall back to the workflow result; the durable record stays the only truth.
 */
export class TransferCompletions {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Called by the activity that committed the transfer's final state. */
  finished(transferId: string): void {
    const waiting = this.waiters.get(transferId);
    if (!waiting) return;
    this.waiters.delete(transferId);
    for (const wake of waiting) wake();
  }

  /**
   * Resolves when `finished(transferId)` is called, or when the signal aborts. Register before
   * reading the record, so a transfer that finishes in between is not missed.
   */
  next(transferId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      let waiting = this.waiters.get(transferId);
      if (!waiting) this.waiters.set(transferId, (waiting = new Set()));
      const wake = () => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        waiting.delete(wake);
        if (waiting.size === 0 && this.waiters.get(transferId) === waiting) this.waiters.delete(transferId);
        resolve();
      };
      waiting.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** Transfers someone is waiting for; a gauge for leaks. */
  get waitedFor(): number {
    return this.waiters.size;
  }
}
