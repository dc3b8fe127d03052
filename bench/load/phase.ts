import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchOptions } from '../options';
import type { Settled } from '../settle';
import { clock_ticks_per_s } from '../procfs/read';
import type { ProcessSampler, Snapshot } from '../procfs/sampler';
import { runClosedLoop, runOpenLoop } from './arrivals';
import { createSender } from './drive';
import type { LatencySummary } from './histogram';
import { PhaseRecorder, type UnsettledRequest } from './recorder';
import type { LoadTarget, PhaseName } from './target';
import type { TransferPlan } from './workload';

export interface ProcessCost {
  name: string;
  cpu_s: number;
  cpu_ms_per_transfer: number | null;
  peak_memory_mib: number;
}

export interface PhaseResult {
  name: PhaseName;
  mode: 'open' | 'closed';
  offered_rate_per_s: number | null;
  concurrency: number | null;
  /** From the end of the warmup to the last recorded completion. */
  window_s: number;
  scheduled: number;
  completed: number;
  completed_per_s: number;
  accept: LatencySummary;
  completion: LatencySummary;
  errors: Record<string, number>;
  warmup_errors: Record<string, number>;
  /** Requests sent in the phase, warmup included. */
  sent_total: number;
  generator: GeneratorHealth;
  processes: ProcessCost[];
  cpu_ms_per_transfer_total: number | null;
  /** How long the phase waited for the system to go idle before it started, and whether it did. */
  settled_before: Settled;
}

export interface GeneratorHealth {
  /** How late open-loop requests left relative to their schedule (null in a closed loop). */
  lag: LatencySummary | null;
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
  fell_behind: boolean;
}

/** An open-loop generator whose p99 send lag exceeds this did not deliver the offered schedule. */
const lag_p99_behind_ms = 10;

/**
 * One phase: warmup then measured load against a target, CPU and memory of every part measured
 * over the window from the end of the warmup until the last request settled.
 */
export async function runPhase(
  target: LoadTarget,
  options: BenchOptions,
  nextPlan: () => TransferPlan,
  keyOf: (index: number) => string,
  sampler: ProcessSampler,
  settled_before: Settled,
): Promise<{ result: PhaseResult; unsettled: UnsettledRequest[] }> {
  const t0_ms = performance.now() + 50;
  const measure_start_ms = t0_ms + options.warmup_s * 1000;
  const recorder = new PhaseRecorder(measure_start_ms);
  const sender = createSender(target, nextPlan, keyOf, recorder);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const started: Promise<Snapshot> = delay(measure_start_ms - performance.now()).then(() => {
    loopDelay.enable();
    return sampler.snapshot();
  });
  const schedule_s = options.warmup_s + options.duration_s;
  if (options.mode === 'open')
    await runOpenLoop(sender, recorder, t0_ms, {
      rate_per_s: options.rate_per_s,
      schedule_s,
      outstanding_max: options.outstanding_max,
    });
  else await runClosedLoop(sender, recorder, t0_ms, { schedule_s, concurrency: options.concurrency });
  const first = await started;
  const last = sampler.snapshot();
  loopDelay.disable();

  const window_s = Math.max(0.001, ((recorder.last_completion_ms || last.at_ms) - measure_start_ms) / 1000);
  const lag = options.mode === 'open' ? recorder.lag.summary() : null;
  const processes = costsBetween(first, last, sampler, recorder.completed);
  const result: PhaseResult = {
    name: target.phase,
    mode: options.mode === 'open' ? 'open' : 'closed',
    offered_rate_per_s: options.mode === 'open' ? options.rate_per_s : null,
    concurrency: options.mode === 'closed' ? options.concurrency : null,
    window_s: round(window_s, 3),
    scheduled: recorder.scheduled,
    completed: recorder.completed,
    completed_per_s: round(recorder.completed / window_s, 1),
    accept: recorder.accept.summary(),
    completion: recorder.completion.summary(),
    errors: Object.fromEntries(recorder.errors),
    warmup_errors: Object.fromEntries(recorder.warmup_errors),
    sent_total: recorder.sent_total,
    generator: {
      lag,
      event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6, 2),
      event_loop_delay_max_ms: round(loopDelay.max / 1e6, 2),
      fell_behind: lag !== null && lag.p99_ms > lag_p99_behind_ms,
    },
    processes,
    cpu_ms_per_transfer_total:
      recorder.completed > 0
        ? round(
            processes.reduce((sum, part) => sum + (part.cpu_ms_per_transfer ?? 0), 0),
            3,
          )
        : null,
    settled_before,
  };
  return { result, unsettled: recorder.unsettled };
}

function costsBetween(first: Snapshot, last: Snapshot, sampler: ProcessSampler, completed: number): ProcessCost[] {
  const peaks = sampler.peakMemoryBytes(first.at_ms, last.at_ms);
  return [...last.parts].map(([name, reading]) => {
    // Clamped: a backend that exited but was not reaped yet can make the counter dip for a moment.
    const cpu_s =
      Math.max(0, reading.cpu_ticks - (first.parts.get(name)?.cpu_ticks ?? reading.cpu_ticks)) / clock_ticks_per_s;
    return {
      name,
      cpu_s: round(cpu_s, 2),
      cpu_ms_per_transfer: completed > 0 ? round((cpu_s * 1000) / completed, 3) : null,
      peak_memory_mib: round((peaks.get(name) ?? reading.memory_bytes) / 2 ** 20, 1),
    };
  });
}

function delay(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, duration_ms)));
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
