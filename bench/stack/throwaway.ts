import { randomBytes } from 'node:crypto';
import { createShards, isLoopback, serverOf } from '../../db/throwaway-databases';
import { freePort, startEphemeralTemporal } from '../../supervisor/dev-server';
import type { Cleanup } from '../cleanup';
import type { BenchOptions } from '../options';
import { pidListeningOn } from '../procfs/read';
import type { PartSpec } from '../procfs/sampler';
import { startBenchBank, type BenchBank } from './bank';
import { spawnBenchChild, waitForHttpReady, type BenchChild } from './children';
import { benchDatabasePrefix } from './databases';
import { waitForPollers } from './pollers';
import { defaultPgServer, type BenchStack } from './types';

const ready_timeout_ms = 120_000;

/**
 * The bench's own stack, as `npm start` runs it: a Temporal dev server (or TEMPORAL_ADDRESS's),
 * fresh shard databases, and `--processes` wallet processes (API and worker together, or apart
 * with `--split`) on one task queue. Everything is registered with cleanup as it is created.
 */
export async function startThrowawayStack(
  options: BenchOptions,
  logDir: string,
  cleanup: Cleanup,
): Promise<BenchStack> {
  const notes: string[] = [];
  const temporal = await startEphemeralTemporal(process.env.TEMPORAL_CLI);
  cleanup.add('stop Temporal', () => temporal.stop());
  const servers = options.shard_servers.length > 0 ? options.shard_servers.map(serverOf) : [defaultPgServer()];
  const shardUrls = await createShards({ servers, count: options.shards, prefix: benchDatabasePrefix() }, cleanup);
  await temporal.ready;
  const temporalPid = localPidOf(`grpc://${temporal.address}`);
  if (temporalPid === undefined)
    notes.push(`Temporal at ${temporal.address} is not a local process: its CPU and memory are not measured`);

  // --payouts: the bank and moov-io/ach's server beside the wallet, as `npm start` runs them.
  const bank: BenchBank | undefined =
    options.payouts === null ? undefined : await startBenchBank(logDir, serverOf(shardUrls[0]!), cleanup);
  const tokenSecret = randomBytes(24).toString('hex');
  const taskQueue = `bench-${process.pid}`;
  const env = {
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    SHARD_URLS: shardUrls.join(','),
    AUTH_SECRET: tokenSecret,
    LOG_LEVEL: 'warn',
    // The reconciliation Schedule reads every shard whole; one run inside a measured phase would
    // be measured as transfer cost. Its cost is its own (docs/performance.md).
    RECONCILE_EVERY_MS: String(86_400_000),
    // The rails' Schedules (pay-in poll, payout cutoff and feed) would fail every few seconds
    // inside the measured phases when no bank runs; with --payouts the bench runs the cutoff and
    // the feed itself (bench/payouts.ts), so each stage is timed on its own.
    PAYIN_POLL_EVERY: 'off',
    PAYOUT_CUTOFF_EVERY: '1d',
    PAYOUT_INBOUND_EVERY: '1d',
    ...bank?.walletEnv,
  };
  const roles = options.split ? (['api', 'worker'] as const) : (['wallet'] as const);
  const children = await spawnWalletProcesses(options, roles, env, logDir, cleanup);
  await Promise.all(
    children
      .filter((child) => child.origin)
      .map((child) => waitForHttpReady(`${child.origin}/readyz`, child, ready_timeout_ms)),
  );
  if (options.split) await waitForPollers(temporal.address, 'default', taskQueue, options.processes, ready_timeout_ms);

  const parts: PartSpec[] = [];
  if (temporalPid !== undefined) parts.push({ name: 'temporal', pids: [temporalPid] });
  for (const role of roles)
    parts.push({ name: role, pids: children.filter((child) => child.role === role).map((child) => child.pid) });
  parts.push(...(bank?.parts ?? []), { name: 'postgres', postgres: true });
  if (options.split)
    notes.push(
      "--split: the API process has no worker, so its workflow starts are not eager, while the floor's are; the floor ratio includes that difference",
    );
  if (!shardUrls.every((url) => isLoopback(new URL(url).hostname)))
    notes.push('some shards are on another host: only local PostgreSQL processes are measured');
  return {
    kind: 'throwaway',
    walletOrigins: children.flatMap((child) => (child.origin ? [child.origin] : [])),
    tokenSecret,
    temporalAddress: temporal.address,
    shardCount: options.shards,
    shardUrls,
    taskQueue,
    rawPgServer: serverOf(shardUrls[0]!),
    parts,
    notes,
  };
}

/** `--processes` wallet processes in each role, each on a free port. */
async function spawnWalletProcesses(
  options: BenchOptions,
  roles: readonly ('api' | 'worker' | 'wallet')[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  cleanup: Cleanup,
) {
  const children: (BenchChild & { role: string; origin?: string })[] = [];
  for (let index = 0; index < options.processes; index++) {
    for (const role of roles) {
      // A worker alone never listens; it gets a free PORT only because the config reads one.
      const port = await freePort();
      const child = spawnBenchChild(
        `${role}-${index}`,
        ['app/main.ts', role],
        { ...env, PORT: String(port) },
        logDir,
        cleanup,
        options.cpu_prof_dir,
      );
      children.push({ ...child, role, ...(role === 'worker' ? {} : { origin: `http://127.0.0.1:${port}` }) });
    }
  }
  return children;
}

/** The local process listening on an address's port, if the address is on this machine. */
export function localPidOf(url: string): number | undefined {
  const parsed = new URL(url);
  if (!isLoopback(parsed.hostname)) return undefined;
  return pidListeningOn(Number(parsed.port));
}
