import { listPids, readMemory, readStat } from './read';

/**
 * One part of the system whose cost is reported: fixed pids (summed), or every PostgreSQL
 * process of the machine (backends come and go, so they are found on every sample).
 */
export type PartSpec = { name: string; pids: number[] } | { name: string; postgres: true };

export interface PartReading {
  /** Cumulative: CPU of the part's processes and their reaped children, in clock ticks. */
  cpu_ticks: number;
  /** Resident memory now: VmRSS summed; for PostgreSQL, whose processes share memory, see readPart. */
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

  constructor(readonly parts: readonly PartSpec[]) {}

  start(): void {
    this.timer ??= setInterval(() => this.snapshot(), sample_interval_ms);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now and keeps it for peak memory. */
  snapshot(): Snapshot {
    if (this.parts.some((part) => 'postgres' in part)) this.refreshPostgresPids();
    const parts = new Map<string, PartReading>();
    for (const part of this.parts)
      parts.set(part.name, 'postgres' in part ? readPart([...this.postgresPids], true) : readPart(part.pids, false));
    const snapshot = { at_ms: performance.now(), parts };
    this.samples.push(snapshot);
    return snapshot;
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

  /**
   * Every process named postgres. The postmaster's cutime/cstime hold the CPU of backends that
   * exited, so the sum stays a cumulative counter while backends come and go. Each new pid's
   * name is read once.
   */
  private refreshPostgresPids(): void {
    const alive = new Set(listPids());
    for (const known of [this.postgresPids, this.otherPids]) {
      for (const pid of known) if (!alive.has(pid)) known.delete(pid);
    }
    for (const pid of alive) {
      if (this.postgresPids.has(pid) || this.otherPids.has(pid)) continue;
      (readStat(pid)?.comm === 'postgres' ? this.postgresPids : this.otherPids).add(pid);
    }
  }
}

/**
 * CPU and memory of a set of processes. For PostgreSQL a plain sum of RSS would count shared
 * buffers and the executable once per backend: its memory is the private memory of every
 * process plus the shared and file-backed pages once (the most any one process maps). Exact PSS
 * (smaps_rollup) costs a page-table walk per backend, about 0.4 ms each, every sample.
 */
function readPart(pids: readonly number[], sharesMemory: boolean): PartReading {
  let cpu_ticks = 0;
  let private_bytes = 0;
  let shared_bytes = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    const memory = stat && readMemory(pid);
    if (!stat || !memory) continue;
    cpu_ticks += stat.cpu_ticks;
    if (sharesMemory) {
      private_bytes += memory.anon_bytes;
      shared_bytes = Math.max(shared_bytes, memory.shmem_bytes + memory.file_bytes);
    } else {
      private_bytes += memory.rss_bytes;
    }
  }
  return { cpu_ticks, memory_bytes: private_bytes + shared_bytes };
}
