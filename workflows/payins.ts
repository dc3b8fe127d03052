import { proxyActivities } from '@temporalio/workflow';
import type { PayinActivities, PayinPollSummary } from '../activities/payins';

/**
 * One poll of the bank for pay-ins, started by the `wallet-payins` Schedule
 * (workers/payin-schedule.ts) every PAYIN_POLL_EVERY, or by hand. A Schedule rather than one
 * long-running workflow with timers: each run is a short history that needs no continue-as-new,
 * the schedule skips a run while the previous one still works (overlap SKIP), so one poller runs
 * at a time whatever the number of workers, and an operator pauses pay-ins from the Web UI. The
 * cursor lives in the database (payin_files), so a failed or killed run loses nothing: the next
 * one reads from where the last finished file left it.
 */

/** A poll reads up to 10 files, each a moov-io/ach parse and a few statements per credit. */
const poll_options = {
  startToCloseTimeout: 5 * 60_000,
  heartbeatTimeout: 60_000,
  // The bank down, a shard unreachable: a few tries, then this run fails (visible in the Web UI)
  // and the next scheduled run starts afresh from the cursor.
  retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 5 },
};

/** Rounds of files one run reads before it leaves the rest to the next run. */
const poll_rounds_max = 10;

export interface PayinRunSummary extends Omit<PayinPollSummary, 'more'> {
  returnFiles: number;
  returnEntries: number;
  /** Return files the bank refused: set aside for a person (an error was logged). */
  returnFilesRefused: number;
}

export async function payinPollWorkflow(): Promise<PayinRunSummary> {
  const { pollPayinFiles, sendPayinReturns } = proxyActivities<PayinActivities>(poll_options);
  const total: PayinRunSummary = {
    files: 0,
    refused: 0,
    credited: 0,
    returned: 0,
    returnFiles: 0,
    returnEntries: 0,
    returnFilesRefused: 0,
  };
  for (let round = 0; round < poll_rounds_max; round++) {
    const { more, ...polled } = await pollPayinFiles();
    total.files += polled.files;
    total.refused += polled.refused;
    total.credited += polled.credited;
    total.returned += polled.returned;
    if (!more) break;
  }
  // Returns go out after the credits are decided, so this run's R02/R03 leave in this run's file.
  const sent = await sendPayinReturns();
  total.returnFiles = sent.files;
  total.returnEntries = sent.entries;
  total.returnFilesRefused = sent.refused;
  return total;
}
