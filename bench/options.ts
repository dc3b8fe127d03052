import { parseArgs } from 'node:util';
import type { TransferFlow } from './targets/http-transfers';

export interface BenchOptions {
  /** burst and blocked-shard: the admission scenarios (bench/scenarios), with `--rate` as their background. */
  mode: 'open' | 'closed' | 'payroll' | 'burst' | 'blocked-shard';
  rate_per_s: number;
  concurrency: number;
  duration_s: number;
  warmup_s: number;
  users: number;
  shards: number;
  skew: 'uniform' | 'hot';
  cross_shard_fraction: number;
  /** Fraction of transfers that convert (bench_currency to bench_fx_currency at a fixed rate). */
  fx_fraction: number;
  baselines: ('floor' | 'pg')[];
  /** Wallet base URLs of an existing deployment; empty for the bench's own throwaway stack. */
  targets: string[];
  token_secret: string | null;
  processes: number;
  split: boolean;
  /** PostgreSQL servers for the throwaway shards (shard i on server i mod n); empty for PG_URL's. */
  shard_servers: string[];
  /** Processes named by hand for `--target`: name=pid pairs (a name may repeat; they are summed). */
  pids: { name: string; pid: number }[];
  out_dir: string;
  seed: number;
  outstanding_max: number;
  /** --mode payroll: the batch's items (and the single transfers it is compared with). */
  payroll_items: number;
  /** --mode burst: transfers sent within burst_window_s. */
  burst: number;
  burst_window_s: number;
  /** --mode blocked-shard: how long the last shard's accounts stay locked. */
  lock_s: number;
  /** --cpu-prof: where the throwaway stack's wallet processes and the floor write V8 CPU profiles; null for none. */
  cpu_prof_dir: string | null;
  /** How the wallet and the floor phases follow each transfer (bench/targets/http-transfers.ts). */
  flow: TransferFlow;
  /** --payouts N: after the phases, N payouts through one cutoff, the bank and reconciliation (bench/payouts.ts); null for none. */
  payouts: number | null;
}

/** `--payouts` alone: a file of this many, as issue 19 asks (a file holds at most 10,000 entries). */
const payouts_default = 10_000;

export const bench_usage = `npm run bench -- [options]
  --mode MODE              open: fixed arrival rate; closed: fixed concurrency;
                           payroll: one batch from one payer against as many single transfers;
                           burst: --burst transfers within --burst-window s on top of an
                           open loop at --rate; blocked-shard: an open loop at --rate with
                           the last shard's accounts locked for --lock s after the warmup [open]
  --payroll-items N        payroll: items in the batch [1000]
  --rate N                 open loop: transfers per second [100]
  --concurrency N          closed loop: transfers in flight [64]
  --duration S             measured seconds per phase [60]
  --warmup S               seconds sent before measuring, not recorded [5]
  --users N                benchmark users, spread evenly over the shards [1000]
  --shards N               shard count (must match the target's with --target) [4]
  --skew uniform|hot       hot: 80% of transfers involve one hot account [uniform]
  --cross-shard F          fraction of transfers between users on different shards [0.75]
  --fx F                   fraction of transfers that convert USD to EUR (the wallet phase only) [0]
  --baselines LIST         floor,pg (either) or none [floor,pg]
  --target URL[,URL...]    measure a running wallet (round-robin) instead of a throwaway stack
  --token-secret S         the target's AUTH_SECRET [env AUTH_SECRET, else the development default]
  --pids name=pid,...      with --target: processes to measure (e.g. worker=1234)
  --processes N            throwaway stack: wallet processes [1]
  --split                  throwaway stack: API and worker as separate processes
  --shard-urls URL,...     throwaway stack: PostgreSQL servers for the shards [PG_URL's server]
  --outstanding-max N      open loop: requests in flight before new ones are dropped [5000]
  --burst N                burst mode: transfers in the burst [3000]
  --burst-window S         burst mode: seconds the burst is spread over [10]
  --lock S                 blocked-shard mode: seconds the shard stays locked [30]
  --flow FLOW              accept-then-wait: POST (the 202), then GET ?wait until final;
                           wait-in-post: POST ?wait, one request per transfer (GET ?wait
                           only if its wait ran out); the floor follows the same flow
                           [accept-then-wait]
  --cpu-prof DIR            throwaway stack: the wallet processes and the floor run with
                           node --cpu-prof and write their profiles under DIR/<process>/
                           when they stop (the profiler costs some CPU: compare runs
                           that both have it, or both do not)
  --payouts [N]            after the phases, on the same throwaway stack with the bank:
                           N payouts accepted, put in a file by a cutoff, submitted,
                           settled and reconciled, each stage timed [10000 when given]
  --seed N                 workload seed (pairs and amounts) [1]
  --out DIR                report folder [bench-results]`;

/** Reads and checks the command line; throws a message naming the bad option. */
export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: withPayoutsCount(argv),
    strict: true,
    options: {
      mode: { type: 'string', default: 'open' },
      rate: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '64' },
      duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '5' },
      users: { type: 'string', default: '1000' },
      shards: { type: 'string', default: '4' },
      skew: { type: 'string', default: 'uniform' },
      'cross-shard': { type: 'string', default: '0.75' },
      fx: { type: 'string', default: '0' },
      baselines: { type: 'string', default: 'floor,pg' },
      target: { type: 'string' },
      'token-secret': { type: 'string' },
      pids: { type: 'string' },
      processes: { type: 'string', default: '1' },
      split: { type: 'boolean', default: false },
      'shard-urls': { type: 'string' },
      'outstanding-max': { type: 'string', default: '5000' },
      seed: { type: 'string', default: '1' },
      'payroll-items': { type: 'string', default: '1000' },
      burst: { type: 'string', default: '3000' },
      'burst-window': { type: 'string', default: '10' },
      lock: { type: 'string', default: '30' },
      'cpu-prof': { type: 'string' },
      flow: { type: 'string', default: 'accept-then-wait' },
      payouts: { type: 'string' },
      out: { type: 'string', default: 'bench-results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const options: BenchOptions = {
    mode: oneOf('--mode', values.mode, ['open', 'closed', 'payroll', 'burst', 'blocked-shard'] as const),
    rate_per_s: number('--rate', values.rate, 0.1, 100_000),
    concurrency: integer('--concurrency', values.concurrency, 1, 10_000),
    duration_s: number('--duration', values.duration, 0.5, 86_400),
    warmup_s: number('--warmup', values.warmup, 0, 3_600),
    users: integer('--users', values.users, 2, 1_000_000),
    shards: integer('--shards', values.shards, 1, 64),
    skew: oneOf('--skew', values.skew, ['uniform', 'hot'] as const),
    cross_shard_fraction: number('--cross-shard', values['cross-shard'], 0, 1),
    fx_fraction: number('--fx', values.fx, 0, 1),
    baselines: baselinesOf(values.baselines),
    targets: listOf(values.target).map((url) => url.replace(/\/+$/, '')),
    token_secret: values['token-secret'] ?? null,
    processes: integer('--processes', values.processes, 1, 64),
    split: values.split,
    shard_servers: listOf(values['shard-urls']),
    pids: listOf(values.pids).map(namedPid),
    out_dir: values.out,
    seed: integer('--seed', values.seed, 0, 2 ** 32 - 1),
    outstanding_max: integer('--outstanding-max', values['outstanding-max'], 1, 100_000),
    payroll_items: integer('--payroll-items', values['payroll-items'], 1, 1_000),
    ...scenarioOptionsOf(values),
    ...measuringOptionsOf(values),
    payouts: values.payouts === undefined ? null : integer('--payouts', values.payouts, 1, 1_000_000),
  };
  checkTarget(options);
  if (options.shards === 1 && options.cross_shard_fraction > 0) options.cross_shard_fraction = 0;
  checkScenario(options);
  return options;
}

/** --burst, --burst-window and --lock: the admission scenarios' shape. */
function scenarioOptionsOf(values: { burst?: string; 'burst-window'?: string; lock?: string }) {
  return {
    burst: integer('--burst', values.burst, 1, 100_000),
    burst_window_s: number('--burst-window', values['burst-window'], 0.1, 3_600),
    lock_s: number('--lock', values.lock, 0.1, 3_600),
  };
}

/** Options that shape the throwaway stack do not apply to a --target deployment, and the reverse. */
function checkTarget(options: BenchOptions): void {
  if (options.targets.length > 0 && (options.processes !== 1 || options.split || options.shard_servers.length > 0)) {
    throw new Error('--processes, --split and --shard-urls shape the throwaway stack; they do not apply with --target');
  }
  // A deployment is checked through its API, by its users' balances in one currency: conversions would need its FX houses.
  if (options.targets.length > 0 && options.fx_fraction > 0)
    throw new Error(
      '--fx measures the throwaway stack (its ledger check counts the FX houses); it does not apply with --target',
    );
  if (options.targets.length > 0 && options.cpu_prof_dir !== null)
    throw new Error("--cpu-prof profiles the throwaway stack's processes; it does not apply with --target");
  if (options.targets.length === 0 && options.pids.length > 0)
    throw new Error('--pids names processes of a --target deployment');
  if (options.targets.length > 0 && options.payouts !== null)
    throw new Error("--payouts runs the bench's own bank beside the throwaway stack; it does not apply with --target");
  if (options.mode === 'payroll' && options.payouts !== null)
    throw new Error('--payouts follows the transfer phases; --mode payroll has none');
}

/** `--payouts` with no count after it (the last argument, or another option next) means the default count. */
function withPayoutsCount(argv: string[]): string[] {
  return argv.flatMap((arg, index) =>
    arg === '--payouts' && !/^\d/.test(argv[index + 1] ?? '') ? [arg, String(payouts_default)] : [arg],
  );
}

/** --flow and --cpu-prof: how each transfer is followed, and whether the processes are profiled. */
function measuringOptionsOf(values: { flow?: string; 'cpu-prof'?: string }) {
  return {
    flow: oneOf('--flow', values.flow, ['accept-then-wait', 'wait-in-post'] as const),
    cpu_prof_dir: values['cpu-prof'] ?? null,
  };
}

function checkScenario(options: BenchOptions): void {
  if (options.mode !== 'burst' && options.mode !== 'blocked-shard') return;
  // The scenarios measure the wallet alone: the baselines have no admission to measure.
  options.baselines = [];
  if (options.mode === 'blocked-shard' && (options.targets.length > 0 || options.shards < 2))
    throw new Error(
      '--mode blocked-shard locks a shard of the throwaway stack: it needs at least 2 shards and no --target',
    );
}

function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got ${value})`);
  return value as T;
}

function number(name: string, value: string | undefined, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max)
    throw new Error(`${name} must be a number from ${min} to ${max} (got ${value})`);
  return parsed;
}

function integer(name: string, value: string | undefined, min: number, max: number): number {
  const parsed = number(name, value, min, max);
  if (!Number.isInteger(parsed)) throw new Error(`${name} must be a whole number (got ${value})`);
  return parsed;
}

function baselinesOf(value: string | undefined): BenchOptions['baselines'] {
  const names = listOf(value);
  if (names.length === 1 && names[0] === 'none') return [];
  for (const name of names) oneOf('--baselines', name, ['floor', 'pg'] as const);
  return [...new Set(names as BenchOptions['baselines'])];
}

function namedPid(pair: string): { name: string; pid: number } {
  const match = /^([A-Za-z][A-Za-z0-9_-]*)=(\d+)$/.exec(pair);
  if (!match) throw new Error(`--pids entries look like name=pid (got ${pair})`);
  return { name: match[1]!, pid: Number(match[2]) };
}
