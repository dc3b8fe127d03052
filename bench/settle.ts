import type { ProcessSampler } from './procfs/sampler';
import { clock_ticks_per_s } from './procfs/read';

/** Below this many cores, summed over Temporal and the wallet and floor processes, the system is idle. */
const quiet_cores = 0.15;
/** Idle for this many consecutive one-second samples. */
const quiet_samples_needed = 2;
const settle_timeout_ms = 180_000;

/** Parts that are never idle for reasons of their own: the bench itself, and PostgreSQL (shared with other work on the server). */
const ignored_parts = new Set(['bench', 'postgres']);

export interface Settled {
  waited_s: number;
  quiet: boolean;
}

/**
 * Waits until the previous phase's work is over: an open loop beyond capacity leaves workflows,
 * retries and timers running for minutes after its last request, and a phase started on top of
 * them would measure both. Idle means the engine-side processes together use almost no CPU.
 */
export async function waitForQuiet(sampler: ProcessSampler): Promise<Settled> {
  const started_ms = performance.now();
  let previous = sampler.snapshot();
  let quietSamples = 0;
  while (performance.now() - started_ms < settle_timeout_ms) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const current = sampler.snapshot();
    let ticks = 0;
    for (const [name, reading] of current.parts) {
      if (!ignored_parts.has(name))
        ticks += reading.cpu_ticks - (previous.parts.get(name)?.cpu_ticks ?? reading.cpu_ticks);
    }
    const busy_cores = ticks / clock_ticks_per_s / ((current.at_ms - previous.at_ms) / 1000);
    previous = current;
    quietSamples = busy_cores < quiet_cores ? quietSamples + 1 : 0;
    if (quietSamples >= quiet_samples_needed)
      return { waited_s: Math.round((performance.now() - started_ms) / 100) / 10, quiet: true };
  }
  return { waited_s: settle_timeout_ms / 1000, quiet: false };
}
