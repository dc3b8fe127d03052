import { Counter, Gauge, type Registry } from 'prom-client';

/** What admission estimates (api/shard-admission.ts), as the gauge reads it. */
interface DelayEstimates {
  estimateMs(shard: number): number;
}

/**
 * The admission estimate of each shard, read when /metrics is scraped, and the refusals it
 * caused. Labels are shard numbers and a fixed list of reasons, so the series stay bounded. One
 * set per registry, however many apps a process creates (tests make several): the gauge shows
 * the largest estimate among them.
 */
function createAdmissionSeries(registry: Registry, sources: Set<{ admission: DelayEstimates; shardCount: number }>) {
  const registers = [registry];
  return {
    delaySeconds: new Gauge({
      name: 'wallet_admission_delay_estimate_seconds',
      help: 'Estimated time the transfers already in flight on a shard need (backlog over measured completions per second, or the time the shard has finished nothing while it had work): new transfers touching the shard are refused past their target (ADMISSION_TARGET or ?wait)',
      labelNames: ['shard'],
      registers,
      collect() {
        const largest = new Map<number, number>();
        for (const { admission, shardCount } of sources) {
          for (let shard = 0; shard < shardCount; shard++) {
            largest.set(shard, Math.max(largest.get(shard) ?? 0, admission.estimateMs(shard) / 1000));
          }
        }
        this.reset();
        for (const [shard, seconds] of largest) this.set({ shard: String(shard) }, seconds);
      },
    }),
    refusals: new Counter({
      name: 'wallet_admission_refusals_total',
      help: 'Transfer requests answered 503 overloaded by admission, by shard (none: the process-wide ceiling) and reason (delay, ceiling)',
      labelNames: ['shard', 'reason'],
      registers,
    }),
    sources,
  };
}

const series_by_registry = new WeakMap<Registry, ReturnType<typeof createAdmissionSeries>>();

export function admissionMetrics(registry: Registry, admission: DelayEstimates, shardCount: number) {
  let series = series_by_registry.get(registry);
  if (!series) series_by_registry.set(registry, (series = createAdmissionSeries(registry, new Set())));
  series.sources.add({ admission, shardCount });
  const { refusals } = series;
  return {
    refused(shard: number | null, reason: 'delay' | 'ceiling'): void {
      refusals.inc({ shard: shard === null ? 'none' : String(shard), reason });
    },
  };
}

export type AdmissionMetrics = ReturnType<typeof admissionMetrics>;
