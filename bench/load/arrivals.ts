import type { Sender } from './drive';
import type { PhaseRecorder } from './recorder';

export interface OpenLoopOptions {
  rate_per_s: number;
  /** Warmup plus measured duration: the whole schedule. */
  schedule_s: number;
  outstanding_max: number;
}

/**
 * Fires request i at t0 + i/rate whatever happened to earlier ones (no coordinated omission):
 * a slow system gets more requests in flight, not fewer sent. Past `outstanding_max` in flight,
 * a request is not sent and counts as `dropped`, so a stalled system cannot exhaust the client.
 */
export async function runOpenLoop(
  sender: Sender,
  recorder: PhaseRecorder,
  t0_ms: number,
  options: OpenLoopOptions,
): Promise<void> {
  const interval_ms = 1000 / options.rate_per_s;
  const total = Math.round(options.schedule_s * options.rate_per_s);
  const running = new Set<Promise<void>>();
  for (let index = 0; index < total;) {
    const now_ms = performance.now();
    for (; index < total && t0_ms + index * interval_ms <= now_ms; index++) {
      const scheduled_ms = t0_ms + index * interval_ms;
      recorder.fired(scheduled_ms, performance.now());
      if (sender.outstanding >= options.outstanding_max) {
        recorder.failed(scheduled_ms, 'dropped');
        continue;
      }
      const request = sender.send(index, scheduled_ms);
      running.add(request);
      void request.finally(() => running.delete(request));
    }
    if (index < total) await sleepMs(t0_ms + index * interval_ms - performance.now());
  }
  await Promise.all(running);
}

/** Closed loop: `concurrency` users, each sending its next request as soon as the last one is final. */
export async function runClosedLoop(
  sender: Sender,
  recorder: PhaseRecorder,
  t0_ms: number,
  options: { schedule_s: number; concurrency: number },
): Promise<void> {
  const end_ms = t0_ms + options.schedule_s * 1000;
  let next = 0;
  await sleepMs(t0_ms - performance.now());
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let now_ms = performance.now(); now_ms < end_ms; now_ms = performance.now()) {
        // In a closed loop the schedule is the send itself: latency counts from here.
        recorder.fired(now_ms, now_ms);
        await sender.send(next++, now_ms);
      }
    }),
  );
}

function sleepMs(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, duration_ms)));
}
