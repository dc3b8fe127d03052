import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../supervisor/dev-server';
import type { Cleanup } from '../bench/cleanup';
import { repo_root } from '../bench/stack/children';
import { createShards, serverOf } from '../db/throwaway-databases';
import { defaultPgServer } from '../bench/stack/types';
import { dropDatabasesAt } from '../db/throwaway-databases';
import { startAchServer } from '../supervisor/ach-server';
import { bankProcessEnv } from '../supervisor/bank-processes';
import { stopChildren } from '../supervisor/children';
import { startNatsServer } from '../supervisor/nats-server';
import { bank_spec, TemporalEngine, WalletProcess } from './processes';

/** Settings of the run's wallets: short timeouts, so faults cost seconds, and a low review threshold. */
export const chaos_settings = {
  activity_timeout_ms: 2_000,
  review_threshold_minor: 50_000,
  reversal_window: '30s',
  /** The env switch of the fault hook (config, activities/chaos-crash.ts): the armed process kills itself after a committed leg. */
  crash_hook_env: 'WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE',
  /** `debit`: the armed process waits for a debit that moved money (crash_after_debit). */
  crash_leg_env: 'WALLET_CHAOS_CRASH_AFTER_LEG',
  /**
   * The bank's banking day: entries settle 2 s after their file is uploaded and test-matrix
   * returns after settlement come 2 s later, so the rails phase sees every outcome in seconds.
   */
  bank_day_ms: 2_000,
  /** How long a settled payout waits for a return (PAYOUT_RETURN_WINDOW): see walletRailsEnv. */
  payout_return_window_ms: 60_000,
  /** The bank's routing number (the development default: a valid ABA number). */
  bank_routing: '231380104',
} as const;

export interface ChaosStack {
  engine: TemporalEngine;
  wallets: WalletProcess[];
  shardUrls: string[];
  /** The second PostgreSQL server (cluster shards2, made by scripts/second-postgres.sh); the run may stop it, never the main one. */
  second: { version: string; cluster: string; url: string };
  authSecret: string;
  taskQueue: string;
  workDir: string;
  /** The bank process (bank/main.ts, a fault target like the wallets) and how to reach it. */
  bank: ChaosBank;
  /** The run's own nats-server with JetStream, which the wallets' relays publish the wallet events to. */
  natsUrl: string;
}

export interface ChaosBank {
  process: WalletProcess;
  url: string;
  token: string;
  database_url: string;
  /** moov-io/ach's server, which the wallets' ACH rail builds and reads files with too. */
  ach_server_url: string;
}

/**
 * What the wallets need to use the run's bank: its address and token, the ACH server, and short
 * rails timings, so that payouts settle and returns arrive within the run: a cutoff, a look at
 * the bank's settlements and returns, and a pay-in poll every second, and a return window of
 * 60 s (a return after settlement comes a 2 s banking day after it; the window must outlast that
 * plus the faults the run injects meanwhile, since a return after it would find the payout's
 * workflow closed: a late return, left to ops, which the invariants count as broken. 30 s was
 * too short once the suite ran two files at a time: an R04 came 5 s after its window closed).
 */
function walletRailsEnv(bank: ChaosBank): Record<string, string> {
  return {
    BANK_URL: bank.url,
    BANK_TOKEN: bank.token,
    BANK_ROUTING: chaos_settings.bank_routing,
    ACH_SERVER_URL: bank.ach_server_url,
    PAYOUT_CUTOFF_EVERY: '1s',
    PAYOUT_INBOUND_EVERY: '1s',
    PAYOUT_RETURN_WINDOW: `${chaos_settings.payout_return_window_ms}ms`,
    PAYIN_POLL_EVERY: '1s',
  };
}

/**
 * What the wallets need for the events (issue 20): the run's NATS server for the relay, and
 * webhooks to the run's loopback receiver with a short retry schedule (200 ms doubling up to
 * 2 s), so a retry after the receiver's 500 or a fault costs seconds and the end of the run
 * waits little for delivery to catch up. The budget outlasts the longest fault by far, so the
 * endpoint is disabled only if delivery is really stuck.
 */
function walletEventsEnv(natsUrl: string): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    EVENT_RELAY_POLL: '200ms',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_FIRST: '200ms',
    WEBHOOK_RETRY_MAX_INTERVAL: '2s',
    WEBHOOK_RETRY_BUDGET: '5m',
  };
}

/** A nats-server with JetStream on a free port, its store in the run's directory. */
async function startNats(workDir: string, cleanup: Cleanup): Promise<string> {
  const port = await freePort();
  const storeDir = path.join(workDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const child = startNatsServer({ port, storeDir, output: 'ignore' });
  cleanup.add('stop NATS', () => stopChildren([child], 5_000));
  await waitForPort(port, 20_000);
  return `nats://127.0.0.1:${port}`;
}

/**
 * The run's own stack: a Temporal dev server with a SQLite file on free ports, four fresh shard
 * databases (shards 1 and 3 on the second PostgreSQL server), and `walletCount` wallet processes.
 * Everything is registered with cleanup as it is created.
 */
export async function startChaosStack(walletCount: number, workDir: string, cleanup: Cleanup): Promise<ChaosStack> {
  const cliPath = process.env.TEMPORAL_CLI ?? path.join(repo_root, '.tools/bin/temporal');
  if (!existsSync(cliPath)) throw new Error(`no Temporal CLI at ${cliPath}: run this through npm run chaos`);
  const second = startSecondServer();
  // A restart of the second server is part of the run: whatever happens, it is left running.
  cleanup.add('start the second PostgreSQL server', () => startCluster(second));
  const engine = new TemporalEngine(cliPath, await freePort(), path.join(workDir, 'temporal.db'));
  cleanup.add('stop Temporal', () => engine.stop());
  const engineReady = engine.start();
  // Shard i on server i mod 2: two on the main server, two on the second.
  const prefix = `${process.env.WALLET_TEST_DB_PREFIX ?? 'wallet_'}chaos_`;
  const servers = [defaultPgServer(), serverOf(second.url)];
  const shardUrls = await createShards({ servers, count: 4, prefix }, cleanup);
  const bank = await startBank(prefix, workDir, cleanup);
  const natsUrl = await startNats(workDir, cleanup);
  await engineReady;

  const authSecret = randomBytes(24).toString('hex');
  const taskQueue = `chaos-${process.pid}`;
  const env = {
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: engine.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    SHARD_URLS: shardUrls.join(','),
    AUTH_SECRET: authSecret,
    LOG_LEVEL: 'warn',
    ACTIVITY_TIMEOUT_MS: String(chaos_settings.activity_timeout_ms),
    DEBIT_ATTEMPTS_MAX: '8',
    RETRY_INTERVAL_MAX_MS: '1000',
    // The production defaults, written out: the noisy neighbour (chaos/noisy-neighbour.ts) must meet them.
    RATE_LIMIT_CUSTOMER: '300',
    RATE_LIMIT_WINDOW: '1m',
    REVERSAL_WINDOW: chaos_settings.reversal_window,
    REVIEW_THRESHOLD_MINOR: String(chaos_settings.review_threshold_minor),
    REVIEW_TIMEOUT: '2m',
    // Records whose workflow never started (a kill between the two) are picked up within seconds.
    ORPHAN_SWEEP_INTERVAL_MS: '5000',
    ORPHAN_AGE_MIN_MS: '5000',
    RECONCILE_EVERY_MS: String(86_400_000),
    TEMPORAL_SDK_METRICS_ADDRESS: 'off',
    [chaos_settings.crash_hook_env]: '',
    [chaos_settings.crash_leg_env]: '',
    ...walletRailsEnv(bank),
    ...walletEventsEnv(natsUrl),
  };
  const wallets: WalletProcess[] = [];
  for (let index = 0; index < walletCount; index++) {
    const wallet = new WalletProcess(`wallet-${index}`, await freePort(), env, workDir);
    cleanup.add(`stop wallet-${index}`, () => wallet.stop());
    wallets.push(wallet);
  }
  await Promise.all(wallets.map((wallet) => wallet.start()));
  return { engine, wallets, shardUrls, second, authSecret, taskQueue, workDir, bank, natsUrl };
}

/**
 * moov-io/ach's server (stateless: not a fault target) and the bank process with a database of
 * its own on the main server, named like the shards so a killed run's is dropped by the next.
 */
async function startBank(prefix: string, workDir: string, cleanup: Cleanup): Promise<ChaosBank> {
  const achServerBin = process.env.ACH_SERVER_BIN ?? path.join(repo_root, '.tools/bin/achserver');
  if (!existsSync(achServerBin))
    throw new Error(`no moov-io/ach server at ${achServerBin}: run this through npm run chaos`);
  const [achPort, achAdminPort, bankPort] = [await freePort(), await freePort(), await freePort()];
  const achServer = startAchServer({ binPath: achServerBin, port: achPort, adminPort: achAdminPort, output: 'ignore' });
  cleanup.add('stop the ACH server', () => void achServer.kill('SIGKILL'));
  const database_url = `${defaultPgServer()}/${prefix}${process.pid}_bank`;
  cleanup.add('drop the bank database', () => dropDatabasesAt([database_url]));
  const token = randomBytes(24).toString('hex');
  const ach_server_url = `http://127.0.0.1:${achPort}`;
  const env = bankProcessEnv({
    port: bankPort,
    token,
    databaseUrl: database_url,
    bankDayMs: chaos_settings.bank_day_ms,
    routing: chaos_settings.bank_routing,
    achServerUrl: ach_server_url,
  });
  const bank = new WalletProcess('bank', bankPort, env, workDir, bank_spec);
  cleanup.add('stop the bank', () => bank.stop());
  await waitForPort(achPort, 30_000);
  await bank.start();
  return { process: bank, url: bank.origin, token, database_url, ach_server_url };
}

function startSecondServer(): ChaosStack['second'] {
  const url = execFileSync('bash', [path.join(repo_root, 'scripts/second-postgres.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const version = readdirSync('/etc/postgresql')
    .sort((a, b) => Number(a) - Number(b))
    .at(-1)!;
  return { version, cluster: 'shards2', url };
}

const run = promisify(execFile);

/**
 * pg_ctlcluster on the second server only (the main cluster on 5432 is shared and never
 * touched). Asynchronous, so the clients in this process keep their pace meanwhile.
 */
export async function stopCluster(second: ChaosStack['second']): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', second.version, second.cluster, 'stop', '-m', 'immediate']);
}

export async function startCluster(second: ChaosStack['second']): Promise<void> {
  const { stdout } = await run('pg_lsclusters', ['-h', second.version, second.cluster]);
  if (/\bonline\b/.test(stdout)) return;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', second.version, second.cluster, 'start']);
}
