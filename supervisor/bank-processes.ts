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
export async function addBankProcesses(
  supervisor: Supervisor,
  options: { achServerBin: string | undefined; achServerPort: number; bankPort: number; bankHost: string },
): Promise<void> {
  if (options.achServerBin) {
    const binPath = options.achServerBin;
    supervisor.add('achserver', () =>
      startAchServer({ binPath, port: options.achServerPort, adminPort: options.achServerPort + 1, output: 'ignore' }),
    );
    await waitForPort(options.achServerPort, ready_timeout_ms);
  }
  supervisor.add('bank', () => spawnTs(['bank/main.ts']));
  await waitForPort(options.bankPort, ready_timeout_ms, options.bankHost);
}
