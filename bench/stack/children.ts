import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChildren, walletNodeFlags } from '../../supervisor/children';
import type { Cleanup } from '../cleanup';

export const repo_root = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchChild {
  name: string;
  process: ChildProcess;
  pid: number;
  log_path: string;
}

/**
 * Starts a TypeScript entry point as `node --import tsx` (one process, so its pid is the process
 * measured), its output into a log file so the report stays readable. Registered for cleanup at
 * once, so Ctrl-C at any later moment stops it.
 */
export function spawnBenchChild(
  name: string,
  /** The entry file and its arguments. */
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  cleanup: Cleanup,
  /** `--cpu-prof DIR`: V8 CPU profiles of this process (one file per thread) written there when it exits. */
  cpuProfDir?: string | null,
): BenchChild {
  const log_path = path.join(logDir, `${name}.log`);
  const log = openSync(log_path, 'a');
  const child = spawn(
    process.execPath,
    [...walletNodeFlags({ ...process.env, ...env }), ...cpuProfFlags(cpuProfDir, name), '--import', 'tsx', ...command],
    {
      cwd: repo_root,
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  // A profiled process writes its profiles as it exits, which takes a while on a busy machine.
  cleanup.add(`stop ${name}`, () => stopChildren([child], cpuProfDir ? profiled_stop_grace_ms : undefined));
  child.once('exit', (code, signal) => {
    if (stoppingChildren) return;
    const note = `${name} (pid ${child.pid}) exited during the run (${signal ?? `code ${code}`}); see ${log_path}`;
    early_exits.push(note);
    console.error(`bench: ${note}`);
  });
  return { name, process: child, pid: child.pid, log_path };
}

/**
 * Node's own profiler, for the whole life of the process: the main thread and the workflow
 * thread (a worker thread) each write a `CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile` into
 * a folder named after the child, read with Chrome DevTools or speedscope. The files are written when the process exits, which the bench's stop
 * (SIGINT, then a clean exit) allows.
 */
function cpuProfFlags(dir: string | null | undefined, name: string): string[] {
  if (!dir) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir, name)}`];
}

const profiled_stop_grace_ms = 120_000;

let stoppingChildren = false;

/** Children that exited before the bench stopped them: the report must say so. */
export const early_exits: string[] = [];

/** Exits from here on are expected (the bench is shutting down). */
export function markStopping(): void {
  stoppingChildren = true;
}

/** Resolves when GET url answers 200; fails early if the process died. */
export async function waitForHttpReady(url: string, child: BenchChild | undefined, timeout_ms: number): Promise<void> {
  const deadline_ms = Date.now() + timeout_ms;
  while (Date.now() < deadline_ms) {
    if (child && child.process.exitCode !== null)
      throw new Error(`${child.name} exited before it was ready; see ${child.log_path}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} was not ready within ${timeout_ms} ms${child ? `; see ${child.log_path}` : ''}`);
}
