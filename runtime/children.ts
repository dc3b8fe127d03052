import { spawn, type ChildProcess } from 'node:child_process';

const stop_grace_ms = 15_000;

/** Runs a TypeScript entry point as a child process with the same environment. */
export function spawnTs(entry: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, [...walletNodeFlags(env), '--import', 'tsx', entry], { stdio: ['ignore', 'inherit', 'inherit'], env });
}

/** The old-generation heap a wallet process may use, in MiB, unless WALLET_HEAP_MAX_MB says otherwise. */
export const wallet_heap_max_mb_default = 256;

/**
 * Node flags of a wallet process (API, worker or both). V8 otherwise lets the heap grow towards
 * a quarter of the machine's memory before it collects in earnest: a worker whose live set is
 * about 150 MiB grew to 700 MiB of RSS under load, and the cap keeps it under 400 at the same
 * throughput (docs/performance.md, "Memory with the reversal window open").
 */
export function walletNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const heapMb = Number(env.WALLET_HEAP_MAX_MB ?? wallet_heap_max_mb_default);
  if (!Number.isInteger(heapMb) || heapMb < 64) throw new Error(`WALLET_HEAP_MAX_MB must be a whole number of MiB, at least 64 (got ${env.WALLET_HEAP_MAX_MB})`);
  return [`--max-old-space-size=${heapMb}`];
}

/** SIGINT first so each part drains; SIGKILL whatever is still alive after the grace period. */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), stop_grace_ms);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGINT');
        }),
    ),
  );
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
