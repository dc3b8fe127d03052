import { randomBytes } from 'node:crypto';
import { dropDatabasesAt } from '../../db/throwaway-databases';
import { startAchServer } from '../../supervisor/ach-server';
import { bankProcessEnv } from '../../supervisor/bank-processes';
import { freePort, waitForPort } from '../../supervisor/dev-server';
import type { Cleanup } from '../cleanup';
import type { PartSpec } from '../procfs/sampler';
import { spawnBenchChild, waitForHttpReady } from './children';
import { databaseName } from './databases';

const ready_timeout_ms = 60_000;

/**
 * A banking day of the bench's bank: short, as the tests' is, so the settle stage measures the
 * wallet hearing of settlement rather than the wait; the report states it beside the figure.
 */
export const bench_bank_day_ms = 2_000;

export interface BenchBank {
  /** What the wallet processes need to reach the bank and build files (config/index.ts names). */
  walletEnv: Record<string, string>;
  parts: PartSpec[];
}

/**
 * `--payouts`: the bank process (bank/main.ts) with a database of its own, and moov-io/ach's
 * server it and the wallet build and read NACHA files with (ACH_SERVER_BIN, put there by
 * `scripts/run.sh --achserver`), as `npm start` runs them. Both are registered with cleanup.
 */
export async function startBenchBank(logDir: string, pgServer: string, cleanup: Cleanup): Promise<BenchBank> {
  const achServerBin = process.env.ACH_SERVER_BIN;
  if (!achServerBin) throw new Error('--payouts needs ACH_SERVER_BIN (npm run bench sets it)');
  const achPort = await freePort();
  const ach = startAchServer({ binPath: achServerBin, port: achPort, adminPort: await freePort(), output: 'ignore' });
  cleanup.add('stop the ACH server', () => void ach.kill('SIGKILL'));
  await waitForPort(achPort, ready_timeout_ms);
  const achServerUrl = `http://127.0.0.1:${achPort}`;

  const databaseUrl = `${pgServer}/${databaseName('bank')}`;
  cleanup.add('drop the bank database', () => dropDatabasesAt([databaseUrl]));
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const bankEnv = bankProcessEnv({ port, token, databaseUrl, bankDayMs: bench_bank_day_ms, achServerUrl });
  const bank = spawnBenchChild('bank', ['bank/main.ts'], bankEnv, logDir, cleanup);
  await waitForHttpReady(`http://127.0.0.1:${port}/healthz`, bank, ready_timeout_ms);
  return {
    walletEnv: { BANK_URL: `http://127.0.0.1:${port}`, BANK_TOKEN: token, ACH_SERVER_URL: achServerUrl },
    parts: [
      { name: 'bank', pids: [bank.pid] },
      ...(ach.pid === undefined ? [] : [{ name: 'achserver', pids: [ach.pid] }]),
    ],
  };
}
