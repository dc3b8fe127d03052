import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signToken } from '../api/auth';
import { runChecks } from './checks';
import type { Cleanup } from './cleanup';
import { HttpClient } from './load/http';
import { benchUsers, type BenchUsers } from './load/users';
import { runBlockedShard } from './scenarios/blocked-shard';
import { runBurst } from './scenarios/burst';
import { ledgerWatchedTarget } from './scenarios/ledger-watch';
import type { BenchOptions } from './options';
import { runPayoutStages } from './payouts';
import { runPhases } from './phases';
import { ProcessSampler } from './procfs/sampler';
import { ratiosOf } from './report/ratios';
import type { BenchReport } from './report/types';
import { seededOpsClient } from './seed/api';
import { prepareRawPg } from './seed/raw-pg';
import { early_exits, repo_root } from './stack/children';
import { startFloor } from './stack/floor';
import { connectTarget } from './stack/target';
import { startThrowawayStack } from './stack/throwaway';
import type { BenchStack } from './stack/types';
import { httpTransferTarget, wallet_routes } from './targets/http-transfers';

/** Sets up the system under test, runs every phase, checks the ledger, and returns the report. */
export async function runBench(options: BenchOptions, stamp: string, cleanup: Cleanup): Promise<BenchReport> {
  const started_at = new Date().toISOString();
  const load_average_at_start = os.loadavg();
  const logDir = path.resolve(options.out_dir, 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  const runTag = randomBytes(3).toString('hex');

  console.error(`bench: starting the ${options.targets.length > 0 ? 'target' : 'throwaway'} stack (logs in ${logDir})`);
  const stack =
    options.targets.length > 0 ? await connectTarget(options) : await startThrowawayStack(options, logDir, cleanup);
  // The floor bundles its workflow while the users are seeded: setup time, not measured.
  const floorStarting = options.baselines.includes('floor')
    ? startFloor(stack.temporalAddress, logDir, cleanup, options.cpu_prof_dir)
    : undefined;
  void floorStarting?.catch(() => undefined);
  const users = benchUsers(runTag, options.users, stack.shardCount, options.skew === 'hot');
  const client = await seededOpsClient(stack, options.outstanding_max, users, runTag, cleanup);
  const raw = options.baselines.includes('pg') ? await prepareRawPg(stack.rawPgServer, users, cleanup) : undefined;
  const floor = await floorStarting;

  const parts = [
    ...stack.parts,
    ...(floor ? [{ name: 'floor', pids: [floor.pid] }] : []),
    { name: 'bench', pids: [process.pid] },
  ];
  const sampler = new ProcessSampler(parts);
  sampler.start();
  cleanup.add('stop sampler', () => sampler.stop());
  const wallet = httpTransferTarget('transfers', client, wallet_routes, undefined, options.flow);
  const targets = { wallet, floorOrigin: floor?.origin, rawPool: raw?.pool };
  const { phases, walletUnsettled, scenario } = isScenario(options.mode)
    ? await runScenario(options, users, runTag, stack, sampler)
    : { ...(await runPhases(options, users, runTag, targets, sampler)), scenario: null };
  sampler.stop();

  console.error('bench: checking the ledger');
  const checks = await runChecks(stack, client, wallet, walletUnsettled, users, raw?.url);
  // After the transfers were measured and checked, so their figures are those of a run without payouts.
  const payouts =
    options.payouts === null ? null : await runPayoutStages(stack, client, users, runTag, options.payouts);
  const [transfers, floorPhase, rawPhase] = ['transfers', 'floor', 'raw_pg'].map((name) =>
    phases.find((phase) => phase.name === name),
  );
  return {
    started_at,
    finished_at: new Date().toISOString(),
    options,
    environment: { node: process.version, cpus: os.cpus().length, load_average_at_start, git_commit: gitCommit() },
    stack: {
      kind: stack.kind,
      wallet_origins: stack.walletOrigins,
      temporal_address: stack.temporalAddress,
      shards: stack.shardCount,
      parts: Object.fromEntries(
        parts.map((part) => [part.name, 'pids' in part ? part.pids : 'all postgres processes']),
      ),
    },
    notes: [...stack.notes, ...early_exits, ...standingNotes(stack.kind)],
    phases,
    scenario,
    payouts,
    ratios: {
      transfer_to_floor: transfers && floorPhase ? ratiosOf(transfers, floorPhase) : null,
      transfer_to_pg: transfers && rawPhase ? ratiosOf(transfers, rawPhase) : null,
    },
    checks,
  };
}

function isScenario(mode: BenchOptions['mode']): boolean {
  return mode === 'burst' || mode === 'blocked-shard';
}

/**
 * The admission scenarios send each transfer as its payer (a customer token), since admission
 * gives ops requests headroom that customers do not get, on a client of their own.
 */
async function runScenario(
  options: BenchOptions,
  users: BenchUsers,
  runTag: string,
  stack: BenchStack,
  sampler: ProcessSampler,
) {
  const tokens = new Map<string, Promise<string>>();
  const tokenOf = (userId: string) => {
    let token = tokens.get(userId);
    if (!token) tokens.set(userId, (token = signToken(stack.tokenSecret, { userId, role: 'customer' })));
    return token;
  };
  const client = new HttpClient(stack.walletOrigins, 'scenario-sends-customer-tokens', options.outstanding_max);
  try {
    const http = httpTransferTarget('transfers', client, wallet_routes, tokenOf);
    // On the bench's own stack, completion is read from the shards rather than through `?wait`.
    const watch = stack.shardUrls ? ledgerWatchedTarget(http, stack.shardUrls) : undefined;
    const target = watch?.target ?? http;
    const first = sampler.snapshot();
    try {
      const { scenario, unsettled } =
        options.mode === 'burst'
          ? await runBurst(options, users, runTag, target)
          : await runBlockedShard(options, users, runTag, target, stack.shardUrls ?? []);
      // What holding the queue cost in memory (TRANSFERS_IN_FLIGHT_CEILING is sized from it).
      for (const [name, bytes] of sampler.peakMemoryBytes(first.at_ms, sampler.snapshot().at_ms))
        scenario.facts[`peak_memory_mib_${name}`] = Math.round(bytes / 2 ** 20);
      return { phases: [], walletUnsettled: unsettled, scenario };
    } finally {
      await watch?.stop();
    }
  } finally {
    await client.close();
  }
}

function standingNotes(kind: BenchStack['kind']): string[] {
  return [
    "Latencies count from each request's scheduled send time (open loop) or its send (closed loop); accept ends at the 202, completion at the GET that shows a final status.",
    'CPU is utime+stime (with reaped children) from /proc over each phase window, from the end of the warmup until the last request settled; memory is the peak VmRSS sampled every 250 ms, and for PostgreSQL the private memory of all its processes plus their shared memory once.',
    ...(kind === 'throwaway'
      ? ['PostgreSQL is every postgres process on this machine: other work on the same server is counted too.']
      : []),
  ];
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: repo_root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}
