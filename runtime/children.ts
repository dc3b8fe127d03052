import { spawn, type ChildProcess } from 'node:child_process';

const stop_grace_ms = 15_000;

/** Runs a TypeScript entry point as a child process with the same environment. */
export function spawnTs(entry: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['ignore', 'inherit', 'inherit'], env });
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
