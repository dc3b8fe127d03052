/**
 * `npm run bank`: the bank alone (bank/main.ts) with moov-io/ach's server beside it, in the
 * foreground; `npm start` runs the same two beside the wallet. Ctrl-C stops both.
 */
import { bankConfig } from '../config/bank';
import { addBankProcesses } from '../supervisor/bank-processes';
import { Supervisor } from '../supervisor/children';
import { describeStartupError } from '../supervisor/startup-errors';

const supervisor = new Supervisor();

async function run() {
  const settings = bankConfig();
  supervisor.handleSignals();
  await addBankProcesses(supervisor, settings, process.env.ACH_SERVER_BIN);
  console.log(
    `\nbank is up: http://${settings.BANK_HOST}:${settings.BANK_PORT} (README, "The bank"). Ctrl-C stops it.\n`,
  );
}

run().catch(async (error) => {
  console.error(`bank: ${describeStartupError(error)}`);
  await supervisor.stop(1);
});
