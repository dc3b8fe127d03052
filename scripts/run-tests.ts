/**
 * `npm test [-- FILES]` and `npm run test:unit`: runs the tests with what they need and nothing
 * more (scripts/test-plan.ts). Integration files get a real Temporal dev server (in memory, on
 * free ports, so a running `npm start` is not disturbed) and real PostgreSQL databases created
 * for this run only and dropped afterwards; unit files get neither.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dropDatabasesWithPrefix, serverUrlOf, withServerAdmin } from '../db/admin';
import { ensureDatabase, migrateShard } from '../db/migrate';
import { dropDatabasesOfDeadRuns } from '../db/throwaway-databases';
import { startEphemeralTemporal, type EphemeralTemporal } from '../supervisor/dev-server';
import { planOf, splitRunAlone, type TestPlan } from './test-plan';

/**
 * Files run two at a time where the server allows it (fileConcurrency); WALLET_TEST_CONCURRENCY
 * sets it (1: one at a time, to tell a file's own failure from a neighbour's load).
 */
const test_concurrency_default = 2;
/**
 * Connections to allow for each file running at once: two files reached 93 (pg_stat_activity,
 * sampled every 2 s) and were refused at PostgreSQL's default max_connections of 100.
 */
const connections_per_concurrent_file = 100;

/** The tests' databases live on PG_URL's server (the same one `npm start` uses), never in its shard databases. */
const server_url = serverUrlOf(process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

async function run(): Promise<number> {
  // Focused runs while other files are mid-edit may skip types and lint; CI never sets this.
  const plan = planOf(process.argv.slice(2), process.env.WALLET_TEST_SKIP_STATIC === '1');
  // The checks are CPU work and the integration tests mostly wait on timers, workflows and I/O,
  // so the two run side by side: about two minutes off the suite's wall time on two cores.
  const checks = plan.staticChecks ? staticChecks() : Promise.resolve(true);
  const code = await runTestFiles(plan);
  return (await checks) ? code : 1;
}

async function runTestFiles(plan: TestPlan): Promise<number> {
  if (plan.chromium) runScript('scripts/ensure-chromium.sh');
  // Built before the tests start (minutes on a fresh machine), not inside one file's time limit.
  if (plan.temporalServer) runScript('scripts/ensure-temporal-server.sh');
  if (plan.temporalServer) runScript('scripts/ensure-temporal-ui.sh');
  const databasePrefix = `wallet_test_${process.pid}_`;
  const template = `${databasePrefix}template`;
  let temporal: EphemeralTemporal | undefined;
  // Interrupted at any point, the run still stops what it started and drops its databases.
  const interrupt = () => {
    interrupted = true;
    staticCheck?.kill('SIGKILL');
    // test-files.ts stops its files' process groups on SIGTERM; the group kill is the backstop.
    if (tests) {
      tests.kill('SIGTERM');
      setTimeout(() => killGroup(tests!), 5_000).unref();
      return;
    }
    temporal?.stop();
    if (!plan.services) process.exit(130);
    void dropDatabasesWithPrefix(server_url, databasePrefix).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  if (!plan.services) return runTests({ ...plan, concurrency: test_concurrency_default }, {});
  try {
    runScript('scripts/ensure-postgres.sh');
    // The events stream's tests start their own nats-server (Debian's package).
    runScript('scripts/ensure-nats.sh');
    await dropDatabasesOfDeadRuns(server_url, 'wallet_test_');
    const cliPath = temporalCli(plan.chromium);
    // moov-io/ach's server (the ACH rail's NACHA library); each test file that needs one starts its own.
    const achServerBin = runScript('scripts/ensure-achserver.sh').trim();
    temporal = await startEphemeralTemporal(cliPath);
    await temporal.ready;
    await ensureDatabase(`${server_url}/${template}`);
    await migrateShard(`${server_url}/${template}`);
    const services = {
      // Tests that need a server of their own (the Web UI, chaos) start one with this CLI.
      ...(cliPath ? { TEMPORAL_CLI: cliPath } : {}),
      TEMPORAL_ADDRESS: temporal.address,
      WALLET_TEST_PG_URL: server_url,
      PG_URL: `${server_url}/postgres`,
      WALLET_TEST_DB_PREFIX: databasePrefix,
      WALLET_TEST_TEMPLATE: template,
      ACH_SERVER_BIN: achServerBin,
    };
    // The files that share the cores, then the ones that run alone (test-plan.ts run_alone): two
    // summaries when both run.
    const { together, alone } = splitRunAlone(plan.files);
    let code = 0;
    if (together.length > 0)
      code = await runTests({ ...plan, files: together, concurrency: await fileConcurrency() }, services);
    if (alone.length > 0 && !interrupted) code = Math.max(code, await runTests({ ...plan, files: alone }, services));
    return code;
  } finally {
    await dropDatabasesWithPrefix(server_url, databasePrefix).catch((error) =>
      console.error(`could not drop test databases: ${error}`),
    );
    temporal?.stop();
  }
}

/** The test-files.ts process of this run, once started (an interrupt stops it and its files). */
let tests: ChildProcess | undefined;
/** Set by an interrupt: no further run of files starts. */
let interrupted = false;

/**
 * How many files run at once: WALLET_TEST_CONCURRENCY, or two when the server's max_connections
 * leaves room for two files' pools (each file's shards, worker and spawned wallet processes),
 * else one, said on the console: a server at PostgreSQL's default of 100 refused connections
 * ("too many clients") with two files running.
 */
async function fileConcurrency(): Promise<number> {
  if (process.env.WALLET_TEST_CONCURRENCY) return Number(process.env.WALLET_TEST_CONCURRENCY);
  const allowed = await withServerAdmin(server_url, async (admin) =>
    Number((await admin.query<{ max_connections: string }>('show max_connections')).rows[0]!.max_connections),
  );
  const fits = Math.max(1, Math.floor(allowed / connections_per_concurrent_file));
  const concurrency = Math.min(test_concurrency_default, fits);
  if (concurrency < test_concurrency_default)
    console.log(
      `wallet test: one file at a time: PostgreSQL allows ${allowed} connections, two files need about ${test_concurrency_default * connections_per_concurrent_file} (ALTER SYSTEM SET max_connections = 300 and a restart let them run two at a time, about twice as fast)`,
    );
  return concurrency;
}

/**
 * Per file. The short chaos run takes 150-250 s on two cores with its rails phase, and passed
 * 420 s beside the connection-loss file on a slow day (2026-12-06: the machine did a third fewer
 * transfers a second than the day before); its own test allows 600 s. A file that hangs is still
 * stopped well inside CI's budget.
 */
const file_timeout_ms = 660_000;

function runTests(plan: TestPlan & { concurrency?: number }, services: Record<string, string>): Promise<number> {
  // Two files at a time: most of a file's time is waiting on timers, workflows and I/O, so a
  // second file uses what the first leaves of two cores. Every file has its own databases, task
  // queues and Schedule ids (workers/interval-schedule.ts) on the shared dev server.
  const concurrency = plan.concurrency ?? 1;
  return new Promise<number>((resolve) => {
    const child = (tests = spawn(
      process.execPath,
      // Each file a plain node process in the plan's order (scripts/test-files.ts says why not `node --test`).
      [
        '--import',
        'tsx',
        'scripts/test-files.ts',
        String(concurrency),
        String(file_timeout_ms),
        ...plan.flags,
        ...plan.files,
      ],
      {
        stdio: 'inherit',
        // Its own process group, stopped with it; each test file runs in a group of its own, which
        // test-files.ts stops however it ends (short of a SIGKILL).
        detached: true,
        // Errors still print: an unexpected one in a passing run is worth seeing.
        env: { ...process.env, ...services, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
      },
    ));
    child.once('exit', (code, signal) => {
      killGroup(child);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/**
 * The Temporal CLI for the dev server, built or found by scripts/ensure-temporal.sh. None is
 * needed with TEMPORAL_ADDRESS, unless a test starts a server of its own (the browser test's
 * Web UI): without one it would fail, never skip.
 */
function temporalCli(ownServerNeeded: boolean): string | undefined {
  if (process.env.TEMPORAL_ADDRESS && !ownServerNeeded) return undefined;
  return runScript('scripts/ensure-temporal.sh').trim();
}

/** Runs one of the ensure-*.sh scripts; its messages go to the terminal, its output is returned. */
function runScript(script: string): string {
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${script} failed`);
  return result.stdout;
}

/** Stops the test runner and every process it started (test files, worker processes). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** The static check running now, if any (an interrupt stops it). */
let staticCheck: ChildProcess | undefined;

/**
 * Types, lint (which enforces workflow determinism rules), formatting, layers and dead code are
 * part of the suite. One at a time, each reported as it ends; false when any failed.
 */
async function staticChecks(): Promise<boolean> {
  for (const [name, args] of [
    ['typecheck', ['node_modules/typescript/bin/tsc', '-p', '.']],
    ['lint', ['node_modules/eslint/bin/eslint.js', '--max-warnings=0', '.']],
    ['format', ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level=warn', '.']],
    ['dependencies', ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', '--output-type', 'err', '.']],
    ['dead code', ['node_modules/knip/bin/knip.js', '--no-progress']],
    ['diagram', ['--import', 'tsx', 'scripts/diagram.ts', '--check']],
  ] as const) {
    const child = (staticCheck = spawn(process.execPath, args, { stdio: 'inherit' }));
    const [status] = (await once(child, 'exit')) as [number | null];
    if (status !== 0) {
      console.error(`wallet test: ${name} failed`);
      return false;
    }
    console.log(`wallet test: ${name} passed`);
  }
  return true;
}

run().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`wallet test: ${(error as Error).message}`);
    process.exit(1);
  },
);
