import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../supervisor/dev-server';
import { walletNodeFlags } from '../../supervisor/children';
import { checkContract } from './contract';
import { createTestShards } from './shards';
import { test_auth_secret, tokenFor } from './stack';
import { temporalAddress, uniqueName } from './temporal';

const ready_timeout_ms = 90_000;

/**
 * A real wallet process (`app/main.ts wallet`: API and worker, as `npm start` runs it) on this
 * test file's own shard databases and task queue, for tests whose subject is the process itself:
 * whether it stays up, and what its pools and worker settings do. Its output is kept, so a test
 * can look for a log line, and printed when the process dies on its own.
 */
export async function startWalletProcess(
  env: NodeJS.ProcessEnv = {},
  /** The shards of an earlier process (a restart after a crash): this one leaves them for their owner to drop. */
  shardsOf?: Awaited<ReturnType<typeof createTestShards>>,
) {
  const fixture = shardsOf ?? (await createTestShards(4));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const processEnv = walletEnv(fixture.urls, port, env);
  const wallet = spawnWallet(processEnv);
  await waitUntilReady(baseUrl, wallet);
  return {
    ...fixture,
    fixture,
    taskQueue: processEnv.TEMPORAL_TASK_QUEUE!,
    baseUrl,
    pid: wallet.child.pid!,
    output: wallet.output,
    alive: wallet.alive,
    ...processClient(baseUrl, wallet.alive),
    /** Kills the process at once (SIGKILL): nothing it held in memory survives. */
    kill: wallet.kill,
    async stop() {
      await wallet.stop();
      if (!shardsOf) await fixture.drop();
    },
  };
}

/** The settings of a wallet process on the given shards and port, with the suite's short timings; `env` overrides them. */
function walletEnv(shardUrls: readonly string[], port: number, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: uniqueName('wallet-process'),
    SHARD_URLS: shardUrls.join(','),
    AUTH_SECRET: test_auth_secret,
    ACTIVITY_TIMEOUT_MS: '3000',
    DEBIT_ATTEMPTS_MAX: '5',
    RETRY_INTERVAL_MAX_MS: '500',
    RECONCILE_EVERY_MS: String(86_400_000),
    // No bank runs beside these wallets: test/payins.test.ts and test/payouts.test.ts run the
    // rails' workflows on their own stacks.
    PAYIN_POLL_EVERY: 'off',
    PAYOUT_CUTOFF_EVERY: '1d',
    PAYOUT_INBOUND_EVERY: '1d',
    TEMPORAL_SDK_METRICS_ADDRESS: 'off',
    LOG_LEVEL: 'warn',
    ...env,
  };
}

/** The process and its output so far; an exit before stop() prints that output. */
function spawnWallet(env: NodeJS.ProcessEnv) {
  const output: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...walletNodeFlags(env), '--import', 'tsx', 'app/main.ts', 'wallet'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.setEncoding('utf8').on('data', (text: string) => output.push(text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => output.push(text));
  let stopping = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping)
        console.error(
          `wallet process exited on its own (${signal ?? `code ${code}`}); its output:\n${output.join('').slice(-4_000)}`,
        );
      resolve({ code, signal });
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output,
    alive,
    async kill() {
      stopping = true;
      if (alive()) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      stopping = true;
      if (alive()) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** Polls /readyz until it answers 200; fails at once if the process dies first. */
async function waitUntilReady(baseUrl: string, wallet: { alive: () => boolean; output: string[] }): Promise<void> {
  const deadline = Date.now() + ready_timeout_ms;
  for (;;) {
    if (!wallet.alive()) throw new Error(`the wallet process exited before it was ready:\n${wallet.output.join('')}`);
    if (
      await fetch(`${baseUrl}/readyz`).then(
        (answer) => answer.ok,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`the wallet process was not ready within ${ready_timeout_ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** HTTP calls to the process, each answer checked against the contract. */
function processClient(baseUrl: string, alive: () => boolean) {
  async function call(
    method: string,
    path: string,
    options: { as: string; role?: 'customer' | 'ops'; body?: unknown },
  ) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await tokenFor(options.as, options.role)}`,
        'content-type': 'application/json',
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const body = JSON.parse(await response.text()) as any;
    await checkContract(baseUrl, { method, path, status: response.status, headers: response.headers, body });
    return { status: response.status, headers: response.headers, body };
  }

  /** Retries what a client would retry (503, a cut connection) with the same request, until the deadline. */
  async function callUntilAnswered(
    method: string,
    path: string,
    options: { as: string; role?: 'customer' | 'ops'; body?: unknown },
    timeoutMs = 60_000,
  ) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const answer = await call(method, path, options).catch((error: unknown) => ({
        status: 0,
        body: { error: String(error) },
      }));
      if (answer.status !== 503 && answer.status !== 0) return answer;
      if (!alive()) throw new Error(`the wallet process died; ${method} ${path} got ${JSON.stringify(answer)}`);
      if (Date.now() > until) throw new Error(`${method} ${path} kept failing: ${JSON.stringify(answer)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return { call, callUntilAnswered };
}

export type WalletProcess = Awaited<ReturnType<typeof startWalletProcess>>;

/** Creates a user through the process's ops API and, for an amount above 0, funds it with a deposit that completes. */
export async function createFundedUser(wallet: WalletProcess, userId: string, depositMinor: number): Promise<void> {
  const ops = { as: 'ops_console', role: 'ops' as const };
  const created = await wallet.call('POST', '/v1/wallet/users', { ...ops, body: { user_id: userId } });
  if (created.status !== 201) throw new Error(`creating ${userId}: ${JSON.stringify(created.body)}`);
  if (depositMinor <= 0) return;
  const deposit = await wallet.call('POST', `/v1/wallet/${userId}/deposits?wait=30`, {
    ...ops,
    body: { amount: depositMinor, currency: 'USD', idempotency_key: uniqueName('dep') },
  });
  if (deposit.body.status !== 'COMPLETED') throw new Error(`funding ${userId}: ${JSON.stringify(deposit.body)}`);
}

/** Creates and funds each user (see createFundedUser), one after the other: a test counting its own starts sees only them. */
export async function fundUsers(wallet: WalletProcess, users: readonly string[], depositMinor: number): Promise<void> {
  for (const user of users) await createFundedUser(wallet, user, depositMinor);
}
