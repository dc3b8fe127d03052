/** More finished-but-not-yet-asked runs than this means the bench stopped asking: forget the oldest. */
const remembered_max = 100_000;

/**
 * In-process news of finished floor runs, like temporal-client/transfer-completions.ts for transfers.
 * It also remembers runs that finished before anyone asked, because the floor has no durable
 * record to re-read.
 */
export class FloorCompletions {
  private readonly runs = new Map<string, { done: boolean; wake: Set<() => void> }>();

  /** Called when a run is started here, so a GET knows to wait for news rather than ask Temporal. */
  expect(floorId: string): void {
    if (this.runs.size >= remembered_max) this.runs.delete(this.runs.keys().next().value!);
    if (!this.runs.has(floorId)) this.runs.set(floorId, { done: false, wake: new Set() });
  }

  forget(floorId: string): void {
    this.runs.delete(floorId);
  }

  finished(floorId: string): void {
    const run = this.runs.get(floorId);
    if (!run) return;
    run.done = true;
    for (const wake of run.wake) wake();
    run.wake.clear();
  }

  /** 'done', 'pending' when the wait ran out, or 'unknown' for a run not started here. */
  async wait(floorId: string, wait_ms: number): Promise<'done' | 'pending' | 'unknown'> {
    const run = this.runs.get(floorId);
    if (!run) return 'unknown';
    if (!run.done) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, wait_ms);
        function wake() {
          clearTimeout(timer);
          run!.wake.delete(wake);
          resolve();
        }
        run.wake.add(wake);
      });
    }
    if (!run.done) return 'pending';
    this.runs.delete(floorId);
    return 'done';
  }
}
