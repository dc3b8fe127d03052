import { createSender, type Sender } from '../load/drive';
import type { LatencySummary } from '../load/histogram';
import { PhaseRecorder, type UnsettledRequest } from '../load/recorder';
import type { LoadTarget } from '../load/target';
import type { TransferPlan } from '../load/workload';

/** What one group of an admission scenario's transfers measured (see docs/performance.md, Admission). */
export interface GroupResult {
  name: string;
  sent: number;
  completed: number;
  /** Answered 503 overloaded: refused by admission (or by a full shard pool). */
  refused: number;
  errors: Record<string, number>;
  accept: LatencySummary;
  completion: LatencySummary;
  /** From the group's first scheduled send to its last completion, when it completed anything. */
  last_final_after_ms: number | null;
}

export interface ScenarioResult {
  name: 'burst' | 'blocked-shard';
  groups: GroupResult[];
  facts: Record<string, number | string>;
}

/**
 * Transfers of one kind within a scenario (the burst, the background, those touching a locked
 * shard...), each with its own recorder. `send` takes the plan already chosen by the scenario.
 */
export class TransferGroup {
  private readonly recorder = new PhaseRecorder(0);
  private readonly sender: Sender;
  private plan: TransferPlan | undefined;
  private first_ms: number | undefined;

  constructor(
    readonly name: string,
    target: LoadTarget,
    keyOf: (index: number) => string,
  ) {
    // createSender reads the plan synchronously at the start of send, so this hands it the one given.
    this.sender = createSender(target, () => this.plan!, keyOf, this.recorder);
  }

  get outstanding(): number {
    return this.sender.outstanding;
  }

  get unsettled(): UnsettledRequest[] {
    return this.recorder.unsettled;
  }

  send(plan: TransferPlan, index: number, scheduled_ms: number): Promise<void> {
    this.first_ms ??= scheduled_ms;
    this.recorder.fired(scheduled_ms, performance.now());
    this.plan = plan;
    return this.sender.send(index, scheduled_ms);
  }

  result(): GroupResult {
    const errors = Object.fromEntries(this.recorder.errors);
    const refused = Object.entries(errors)
      .filter(([kind]) => kind.startsWith('http_503_overloaded'))
      .reduce((sum, [, count]) => sum + count, 0);
    const last = this.recorder.last_completion_ms;
    return {
      name: this.name,
      sent: this.recorder.sent_total,
      completed: this.recorder.completed,
      refused,
      errors,
      accept: this.recorder.accept.summary(),
      completion: this.recorder.completion.summary(),
      last_final_after_ms: last && this.first_ms !== undefined ? Math.round(last - this.first_ms) : null,
    };
  }
}

/**
 * Fires `total` requests at `rate_per_s` from `t0_ms`, each at its scheduled instant whatever
 * happened to earlier ones (an open loop, as bench/load/arrivals.ts), through `fire`.
 */
export async function openLoop(
  t0_ms: number,
  rate_per_s: number,
  total: number,
  fire: (index: number, scheduled_ms: number) => Promise<void>,
): Promise<void> {
  const interval_ms = 1000 / rate_per_s;
  const running = new Set<Promise<void>>();
  for (let index = 0; index < total;) {
    const now_ms = performance.now();
    for (; index < total && t0_ms + index * interval_ms <= now_ms; index++) {
      const request = fire(index, t0_ms + index * interval_ms);
      running.add(request);
      void request.finally(() => running.delete(request));
    }
    if (index < total) await sleepMs(t0_ms + index * interval_ms - performance.now());
  }
  await Promise.all(running);
}

export function sleepMs(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, duration_ms)));
}
