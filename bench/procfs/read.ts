import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Linux /proc readers for the benchmark's cost accounting. Every reader returns undefined for a
 * process that is gone (backends come and go), never throws for that.
 *
 * Synchronous on purpose: a /proc file is generated in memory and reads in ~20 µs, while an
 * fs/promises read (open, stat, read, close through the thread pool) costs ~1 ms of CPU. At four
 * samples a second over dozens of PostgreSQL backends, that difference is a tenth of a core
 * taken from the load generator.
 */

/** Clock ticks per second of utime/stime (CLK_TCK); 100 on every Linux the bench runs on. */
export const clock_ticks_per_s = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime + cutime + cstime: the process's CPU plus that of its reaped children. */
  cpu_ticks: number;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readStat(pid: number): ProcStat | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // comm may contain spaces and parentheses; the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const ppid = Number(fields[1]);
  const cpu_ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return { pid, comm, ppid, cpu_ticks };
}

export interface MemoryParts {
  /** VmRSS: all resident memory. */
  rss_bytes: number;
  /** Private (anonymous) resident memory. */
  anon_bytes: number;
  /** Resident shared memory (PostgreSQL's shared buffers, as far as this process touched them). */
  shmem_bytes: number;
  /** Resident file-backed pages (the executable and libraries, shared between forks). */
  file_bytes: number;
}

/** Resident memory and its parts, from /proc/<pid>/status. */
export function readMemory(pid: number): MemoryParts | undefined {
  const text = readText(`/proc/${pid}/status`);
  if (text === undefined) return undefined;
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return {
    rss_bytes: field('VmRSS'),
    anon_bytes: field('RssAnon'),
    shmem_bytes: field('RssShmem'),
    file_bytes: field('RssFile'),
  };
}

export function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Processes whose command line matches the pattern (what `pgrep -f` does). */
export function pidsMatching(pattern: RegExp): number[] {
  return listPids().filter(
    (pid) => pid !== process.pid && pattern.test((readText(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ')),
  );
}

/**
 * The process that listens on a local TCP port: the socket inode from /proc/net/tcp{,6}, then the
 * process holding a descriptor for it. Exact where a command-line match could pick another
 * developer's server on the same machine.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readText(table) ?? '').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const [, local, , state] = columns;
      // State 0A is LISTEN; the local address ends in the port in hex.
      if (state === '0A' && local && parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(columns[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of listPids()) {
    for (const descriptor of safeReaddir(`/proc/${pid}/fd`)) {
      const inode = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${descriptor}`))?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

function safeReadlink(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}
