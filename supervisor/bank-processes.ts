import { startAchServer } from './ach-server';
import { spawnTs, type Supervisor } from './children';
import { waitForPort } from './dev-server';

const ready_timeout_ms = 60_000;

/**
 * Starts the bank (bank/main.ts) and, unless ACH_SERVER_URL names one elsewhere, moov-io/ach's
 * server it builds and reads files with, on achServerPort (and the next port for moov's admin
 * server). Both are restarted by the supervisor when they die; the bank keeps its state in its
 * database and the ACH server holds none.
 */
/** The bank's settings these processes need (config/bank.ts's names, passed in by the scripts). */
interface BankProcessSettings {
  ACH_SERVER_URL?: string | undefined;
  ACH_SERVER_PORT: number;
  BANK_PORT: number;
  BANK_HOST: string;
}

export async function addBankProcesses(
  supervisor: Supervisor,
  settings: BankProcessSettings,
  achServerBin: string | undefined,
): Promise<void> {
  if (!settings.ACH_SERVER_URL) {
    if (!achServerBin) throw new Error('ACH_SERVER_BIN is not set: start the bank with npm run bank or npm start');
    const port = settings.ACH_SERVER_PORT;
    supervisor.add('achserver', () =>
      startAchServer({ binPath: achServerBin, port, adminPort: port + 1, output: 'ignore' }),
    );
    await waitForPort(port, ready_timeout_ms);
  }
  supervisor.add('bank', () => spawnTs(['bank/main.ts']));
  await waitForPort(settings.BANK_PORT, ready_timeout_ms, settings.BANK_HOST);
}

/**
 * The environment of a bank process another program starts for itself (the bench, chaos): its
 * own port, token and database, a banking day, and the ACH server it builds and reads files with.
 */
export function bankProcessEnv(bank: {
  port: number;
  token: string;
  databaseUrl: string;
  bankDayMs: number;
  achServerUrl: string;
  routing?: string;
}): Record<string, string> {
  return {
    BANK_HOST: '127.0.0.1',
    BANK_PORT: String(bank.port),
    BANK_TOKEN: bank.token,
    BANK_DATABASE_URL: bank.databaseUrl,
    BANK_DAY: `${bank.bankDayMs}ms`,
    ...(bank.routing === undefined ? {} : { BANK_ROUTING: bank.routing }),
    ACH_SERVER_URL: bank.achServerUrl,
  };
}
