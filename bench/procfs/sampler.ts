import { listPids, readPssBytes, readRssBytes, readStat } from './read';

/**
 * One part of the system whose cost is reported: fixed pids (summed), or every PostgreSQL
 * process of the machine (backends come and go, so they are found on every sample).
 */
export type PartSpec = { name: string; pids: number[] } | { name: string; postgres: true };

export interface PartReading {
  /** Cumulative: CPU of the part's processes and their reaped children, in clock ticks. */
  cpu_ticks: number;
  /** Resident memory now: VmRSS summed, or PSS summed for PostgreSQL (which shares memory). */
  memory_bytes: number;
}

export interface Snapshot {
  at_ms: number;
  parts: Map<string, PartReading>;
}

const sample_interval_ms = 250;

/**
 * Samples CPU and memory of each part every 250 ms. CPU is a cumulative counter, so a phase's
 * CPU is the difference of two snapshots taken at its edges; memory peaks come from the samples
 * in between.
 */
export class ProcessSampler {
  private readonly samples: Snapshot[] = [];
  private readonly postgresPids = new Set<number>();
  private readonly otherPids = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<Snapshot> | undefined;

  constructor(readonly parts: readonly PartSpec[]) {}

  start(): void {
    const tick = () => {
      void this.snapshot().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, sample_interval_ms);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now (or joins the one under way) and keeps it for peak memory. */
  snapshot(): Promise<Snapshot> {
    this.sampling ??= this.read().then((snapshot) => {
      this.samples.push(snapshot);
      this.sampling = undefined;
      return snapshot;
    });
    return this.sampling;
  }

  /** Highest memory of each part over the samples taken between two instants. */
  peakMemoryBytes(from_ms: number, to_ms: number): Map<string, number> {
    const peaks = new Map<string, number>();
    for (const sample of this.samples) {
      if (sample.at_ms < from_ms || sample.at_ms > to_ms) continue;
      for (const [name, reading] of sample.parts) peaks.set(name, Math.max(peaks.get(name) ?? 0, reading.memory_bytes));
    }
    return peaks;
  }

  private async read(): Promise<Snapshot> {
    const needsPostgres = this.parts.some((part) => 'postgres' in part);
    if (needsPostgres) await this.refreshPostgresPids();
    const parts = new Map<string, PartReading>();
    for (const part of this.parts) {
      const pids = 'postgres' in part ? [...this.postgresPids] : part.pids;
      parts.set(part.name, await readPart(pids, 'postgres' in part));
    }
    return { at_ms: performance.now(), parts };
  }

  /**
   * Every process named postgres. The postmaster's cutime/cstime hold the CPU of backends that
   * exited, so the sum stays a cumulative counter while backends come and go. Each new pid's
   * name is read once.
   */
  private async refreshPostgresPids(): Promise<void> {
    const alive = new Set(await listPids());
    for (const known of [this.postgresPids, this.otherPids]) {
      for (const pid of known) if (!alive.has(pid)) known.delete(pid);
    }
    for (const pid of alive) {
      if (this.postgresPids.has(pid) || this.otherPids.has(pid)) continue;
      const stat = await readStat(pid);
      (stat?.comm === 'postgres' ? this.postgresPids : this.otherPids).add(pid);
    }
  }
}

async function readPart(pids: readonly number[], proportional: boolean): Promise<PartReading> {
  let cpu_ticks = 0;
  let memory_bytes = 0;
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (!stat) continue;
    cpu_ticks += stat.cpu_ticks;
    memory_bytes += (await (proportional ? readPssBytes(pid) : readRssBytes(pid))) ?? 0;
  }
  return { cpu_ticks, memory_bytes };
}
