import { readFile, readdir, readlink } from 'node:fs/promises';

/**
 * Linux /proc readers for the benchmark's cost accounting. Every reader returns undefined for a
 * process that is gone (backends come and go), never throws for that.
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

export async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
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

/** VmRSS in bytes. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const match = text && /^VmRSS:\s+(\d+) kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Proportional set size in bytes: shared pages divided among the processes that map them. Summed
 * over PostgreSQL's processes it counts shared_buffers once, where a sum of RSS would count it
 * once per backend.
 */
export async function readPssBytes(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => undefined);
  const match = text && /^Pss:\s+(\d+) kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

export async function listPids(): Promise<number[]> {
  const names = await readdir('/proc');
  return names.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Processes whose command line matches the pattern (what `pgrep -f` does). */
export async function pidsMatching(pattern: RegExp): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await listPids()) {
    if (pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (pattern.test(cmdline.replaceAll('\0', ' '))) found.push(pid);
  }
  return found;
}

/**
 * The process that listens on a local TCP port: the socket inode from /proc/net/tcp{,6}, then the
 * process holding a descriptor for it. Exact where a command-line match could pick another
 * developer's server on the same machine.
 */
export async function pidListeningOn(port: number): Promise<number | undefined> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const [, local, , state] = columns;
      // State 0A is LISTEN; the local address ends in the port in hex.
      if (state === '0A' && local && parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(columns[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of await listPids()) {
    const descriptors = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const descriptor of descriptors) {
      const link = await readlink(`/proc/${pid}/fd/${descriptor}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}
