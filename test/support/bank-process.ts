import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort, waitForPort } from '../../supervisor/dev-server';
import { runnerEnv } from './runner-env';

export const test_bank_token = 'test-bank-token-for-the-suite-0123456789';
export const test_bank_routing = '231380104';

/**
 * The real bank process (bank/main.ts) on a free port, with a database of its own named with the
 * runner's prefix (so the runner drops it). restart() kills it (SIGKILL: no goodbye) and starts
 * a new process on the same database and port.
 */
export async function startTestBank(options: { achServerUrl: string; bankDay: string }) {
  const port = await freePort();
  const databaseUrl = `${runnerEnv('WALLET_TEST_PG_URL')}/${runnerEnv('WALLET_TEST_DB_PREFIX')}bank_${randomBytes(3).toString('hex')}`;
  const env = {
    ...process.env,
    BANK_PORT: String(port),
    BANK_TOKEN: test_bank_token,
    BANK_DATABASE_URL: databaseUrl,
    BANK_DAY: options.bankDay,
    BANK_ROUTING: test_bank_routing,
    ACH_SERVER_URL: options.achServerUrl,
  };
  let child: ChildProcess;
  const start = async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'bank/main.ts'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
    await waitForPort(port, 30_000);
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await start();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    /** The bank's own database: tests that play a hostile bank write its outgoing files directly. */
    databaseUrl,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    request: async (method: string, path: string, body?: string, token = test_bank_token) => {
      const response = await fetch(`${url}${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> & { error?: string } };
    },
  };
}

/** Polls until check answers something other than undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
