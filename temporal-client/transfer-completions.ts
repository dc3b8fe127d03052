/**
 * In-process news of transfers whose durable record just became final. When the API and the
 * worker share a process (the single-machine default), `?wait` learns that a transfer finished
 * from here, the moment the deciding leg commits, instead of long-polling the workflow's result
 * through Temporal (a round trip through the engine per transfer). Split deployments never get
 * news here and fall back to the workflow result; the durable record stays the only truth.
 */
/** How many finished ids are remembered; a wait starts milliseconds after its transfer was accepted. */
const recent_finishes_max = 10_000;

export class TransferCompletions {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Recently finished ids, oldest first: a wait that starts just after the finish still hears of it. */
  private readonly recent = new Set<string>();
  private readonly listeners: ((transferId: string) => void)[] = [];

  /** True when the transfer finished in this process lately (the last few thousand). */
  hasFinished(transferId: string): boolean {
    return this.recent.has(transferId);
  }

  /** Calls `listener` with the id of every transfer that finishes in this process. */
  onFinished(listener: (transferId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Called by the activity that committed the transfer's final state. */
  finished(transferId: string): void {
    this.recent.add(transferId);
    if (this.recent.size > recent_finishes_max) this.recent.delete(this.recent.values().next().value!);
    for (const listener of this.listeners) listener(transferId);
    const waiting = this.waiters.get(transferId);
    if (!waiting) return;
    this.waiters.delete(transferId);
    for (const wake of waiting) wake();
  }

  /**
   * Resolves when `finished(transferId)` is called (or was, recently), or when the signal aborts.
   */
  next(transferId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.recent.has(transferId)) return resolve();
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
}
