import { bankConfig } from '../config/bank';
import { startBank } from './bank-node';

/** `npm run bank` (with moov-io/ach's server beside it) or a child of `npm start`: our bank, played. */
async function run() {
  const settings = bankConfig();
  const log = (line: object) =>
    console.log(JSON.stringify({ time: new Date().toISOString(), service: 'bank', ...line }));
  const bank = await startBank(settings, log);
  log({ msg: 'bank listening', port: bank.port, bankDayMs: settings.BANK_DAY, routing: settings.BANK_ROUTING });
  if (settings.usesDevToken) log({ level: 'warn', msg: 'BANK_TOKEN is the public development token' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      bank
        .stop()
        .then(() => process.exit(0))
        .catch(() => process.exit(1));
    });
}

run().catch((error: unknown) => {
  console.error(`bank: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
