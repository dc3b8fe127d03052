import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { repo_root, waitForHttpReady } from '../bench/stack/children';
import { startDevServer, waitForPort } from '../supervisor/dev-server';
import { walletNodeFlags } from '../supervisor/children';
import { waitForTemporal } from '../supervisor/wait-for-temporal';

const ready_timeout_ms = 120_000;
const stop_grace_ms = 10_000;

/** Waits for a child to exit; resolves at once if it already has. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopGracefully(child: ChildProcess | undefined): Promise<void> {
  if (!child) return;
  const done = exited(child);
  child.kill('SIGCONT');
  child.kill('SIGINT');
  const killer = setTimeout(() => child.kill('SIGKILL'), stop_grace_ms);
  await done;
  clearTimeout(killer);
}

/** What a restartable process runs and where it says it is ready. */
interface ProcessSpec {
  /** The TypeScript entry and its arguments, run with `node --import tsx`. */
  entry: string[];
  /** The path of its readiness answer (200 when it serves). */
  ready_path: string;
}

const wallet_spec: ProcessSpec = { entry: ['app/main.ts', 'wallet'], ready_path: '/readyz' };
/** The bank (bank/main.ts): its /healthz answers once it listens, its database migrated. */
export const bank_spec: ProcessSpec = { entry: ['bank/main.ts'], ready_path: '/healthz' };

/**
 * One wallet process (API and worker, `app/main.ts wallet`, as `npm start` runs it), or the bank
 * with `bank_spec`, that the run kills, stops and restarts on the same port. An exit nobody asked
 * for is logged, counted and answered with a restart, as a supervisor would: the report lists them.
 */
export class WalletProcess {
  private child: ChildProcess | undefined;
  private expectingExit = false;
  private stopping = false;
  readonly unplanned_exits: string[] = [];
  readonly log_path: string;
  readonly origin: string;
  private restarting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    logDir: string,
    private readonly spec: ProcessSpec = wallet_spec,
  ) {
    this.log_path = path.join(logDir, `${name}.log`);
    this.origin = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts the process and waits for /readyz. With extra environment (the crash hook armed) it
   * returns at once and its exit is expected: the caller waits for it with waitForOwnExit.
   */
  async start(extra: NodeJS.ProcessEnv = {}): Promise<void> {
    const armed = Object.keys(extra).length > 0;
    const env = { ...process.env, ...this.env, ...extra, PORT: String(this.port) };
    const log = openSync(this.log_path, 'a');
    const child = spawn(process.execPath, [...walletNodeFlags(env), '--import', 'tsx', ...this.spec.entry], {
      cwd: repo_root,
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.expectingExit = armed;
    child.once('exit', (code, signal) => {
      if (this.stopping || this.expectingExit || this.child !== child) return;
      const note = `${this.name} (pid ${child.pid}) exited on its own (${signal ?? `code ${code}`}); restarted`;
      this.unplanned_exits.push(note);
      console.error(`chaos: ${note}; see ${this.log_path}`);
      this.restarting = this.start().catch((error: unknown) =>
        console.error(`chaos: could not restart ${this.name}: ${(error as Error).message}`),
      );
    });
    if (!armed) await this.waitReady();
  }

  waitReady(): Promise<void> {
    return waitForHttpReady(`${this.origin}${this.spec.ready_path}`, undefined, ready_timeout_ms);
  }

  /** Sends a signal; after SIGKILL the caller restarts the process itself. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    const done = exited(child);
    child.kill('SIGKILL');
    await done;
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(signal);
  }

  /**
   * An armed process (started with extra environment) becomes ready, or exits first: its crash
   * can only come once its worker polls, so the caller's wait for the crash starts from here.
   */
  async waitArmedReady(): Promise<'ready' | 'exited'> {
    const child = this.child;
    if (!child) return 'exited';
    const ready = this.waitReady().then(() => 'ready' as const);
    const result = await Promise.race([ready, exited(child).then(() => 'exited' as const)]);
    // An exit first leaves the readiness poll to time out on its own: nobody waits for it.
    ready.catch(() => undefined);
    return result;
  }

  /** Resolves when the current process exits by itself (the armed crash hook), or false after timeout_ms. */
  async waitForOwnExit(timeout_ms: number): Promise<boolean> {
    const child = this.child;
    if (!child) return true;
    this.expectingExit = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout_ms)));
    const result = await Promise.race([exited(child).then(() => true), timedOut]);
    clearTimeout(timer);
    return result;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.restarting;
    await stopGracefully(this.child);
  }
}

/**
 * The Temporal dev server on a fixed port with a SQLite file, so a kill and a restart keep every
 * workflow (the run's engine restarts are exactly that).
 */
export class TemporalEngine {
  private child: ChildProcess | undefined;
  readonly address: string;

  constructor(
    private readonly cliPath: string,
    readonly port: number,
    readonly db_file: string,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const log = openSync(path.join(path.dirname(this.db_file), 'temporal.log'), 'a');
    this.child = startDevServer({
      cliPath: this.cliPath,
      port: this.port,
      dbFile: this.db_file,
      namespace: 'default',
      output: log,
    });
    closeSync(log);
    await waitForPort(this.port, ready_timeout_ms);
    await waitForTemporal(this.address, 'default', ready_timeout_ms);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const done = exited(child);
    child.kill('SIGKILL');
    await done;
  }

  async stop(): Promise<void> {
    await stopGracefully(this.child);
  }
}
