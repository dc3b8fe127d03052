import { spawn, type ChildProcess } from 'node:child_process';

const stop_grace_ms = 15_000;

/** Runs a TypeScript entry point (the file, then its arguments) as a child process with the same environment. */
export function spawnTs(command: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, [...walletNodeFlags(env), '--import', 'tsx', ...command], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
}

/** The old-generation heap a wallet process may use, in MiB, unless WALLET_HEAP_MAX_MB says otherwise. */
const wallet_heap_max_mb_default = 256;

/**
 * Node flags of a wallet process (API, worker or both). V8 otherwise lets the heap grow towards
 * a quarter of the machine's memory before it collects in earnest: a worker whose live set is
 * about 150 MiB grew to 700 MiB of RSS under load, and the cap keeps it under 400 at the same
 * throughput (docs/performance.md, "Memory with the reversal window open").
 */
export function walletNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const heapMb = Number(env.WALLET_HEAP_MAX_MB ?? wallet_heap_max_mb_default);
  if (!Number.isInteger(heapMb) || heapMb < 64)
    throw new Error(`WALLET_HEAP_MAX_MB must be a whole number of MiB, at least 64 (got ${env.WALLET_HEAP_MAX_MB})`);
  return [`--max-old-space-size=${heapMb}`];
}

/** SIGINT first so each part drains; SIGKILL whatever is still alive after the grace period. */
export async function stopChildren(children: ChildProcess[], graceMs: number = stop_grace_ms): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
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

/** How the supervisor of `npm start` answers a child that dies on its own. */
export interface RestartPolicy {
  /** Wait before the first restart; doubled for each further crash in the window. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** More crashes than this (of all children together) within windowMs: give up and stop everything. */
  crashesMax: number;
  windowMs: number;
}

const restart_policy_default: RestartPolicy = {
  backoffInitialMs: 1_000,
  backoffMaxMs: 15_000,
  crashesMax: 5,
  windowMs: 60_000,
};

/**
 * Keeps the parts of the wallet running. A child that exits when nobody asked it to is logged and
 * started again after a backoff (a wallet on one machine should keep serving after its worker or
 * its Temporal server dies, not wait for a person); a crash loop is not hidden: past crashesMax
 * crashes within windowMs the supervisor stops everything and exits 1, saying why. stop() (Ctrl-C,
 * SIGTERM) stops every child, and nothing is restarted after it.
 */
export class Supervisor {
  private readonly running = new Map<string, ChildProcess>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly crashTimes: number[] = [];
  private stopping = false;

  constructor(
    private readonly options: {
      policy?: RestartPolicy;
      log?: (line: string) => void;
      /** Called once everything is stopped: the process exits with this code. */
      exit?: (code: number) => void;
    } = {},
  ) {}

  private get policy(): RestartPolicy {
    return this.options.policy ?? restart_policy_default;
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => console.error(text)))(`wallet: ${line}`);
  }

  /** Starts a child and restarts it whenever it dies on its own; start is called again for each restart. */
  add(name: string, start: () => ChildProcess): void {
    // A stop (Ctrl-C during startup) wins over a start still on its way.
    if (this.stopping) return;
    const child = start();
    this.running.set(name, child);
    this.log(`${name} started (pid ${child.pid})`);
    child.once('exit', (code, signal) => {
      if (this.stopping || this.running.get(name) !== child) return;
      this.crashed(name, signal ?? `code ${code}`, start);
    });
  }

  private crashed(name: string, how: string, start: () => ChildProcess): void {
    const now = Date.now();
    this.crashTimes.push(now);
    while (this.crashTimes.length > 0 && this.crashTimes[0]! <= now - this.policy.windowMs) this.crashTimes.shift();
    const crashes = this.crashTimes.length;
    if (crashes > this.policy.crashesMax) {
      this.log(
        `${name} exited (${how}); ${crashes} crashes within ${this.policy.windowMs / 1_000} s, more than ${this.policy.crashesMax}: giving up, stopping everything`,
      );
      void this.stop(1);
      return;
    }
    const backoffMs = Math.min(this.policy.backoffMaxMs, this.policy.backoffInitialMs * 2 ** (crashes - 1));
    this.log(
      `${name} exited (${how}); restarting in ${backoffMs} ms (crash ${crashes} of at most ${this.policy.crashesMax} within ${this.policy.windowMs / 1_000} s)`,
    );
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      try {
        this.add(name, start);
      } catch (error) {
        this.log(`${name} could not be restarted: ${(error as Error).message}`);
        this.crashed(name, 'restart failed', start);
      }
    }, backoffMs);
    this.restartTimers.add(timer);
  }

  /** Signals stop everything, with exit code 0. */
  handleSignals(): void {
    process.once('SIGINT', () => void this.stop(0));
    process.once('SIGTERM', () => void this.stop(0));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Stops every child, the last started first, then exits with code (once; later calls do nothing). */
  async stop(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    this.log('stopping');
    await stopChildren([...this.running.values()].reverse());
    (this.options.exit ?? ((exitCode: number) => process.exit(exitCode)))(code);
  }
}
