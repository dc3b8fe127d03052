import type { Client } from '@temporalio/client';
import { payinPollWorkflow } from '../workflows/payins';
import { ensureIntervalSchedule, scheduleIdFor } from './interval-schedule';

const payin_schedule_id = 'wallet-payins';

export interface PayinScheduleOptions {
  client: Client;
  taskQueue: string;
  /** PAYIN_POLL_EVERY. */
  everyMs: number;
  /** Tests use their own, so they never touch the wallet's. */
  scheduleId?: string;
}

/**
 * The `wallet-payins` Temporal Schedule: payinPollWorkflow every PAYIN_POLL_EVERY, one poller at
 * a time (overlap SKIP), kept in step with the configuration (workers/interval-schedule.ts). A
 * missed run needs no making up: the next one reads everything after the cursor anyway.
 */
export async function ensurePayinSchedule(options: PayinScheduleOptions): Promise<void> {
  await ensureIntervalSchedule(
    { ...options, scheduleId: options.scheduleId ?? scheduleIdFor(payin_schedule_id, options.taskQueue) },
    payinPollWorkflow,
  );
}
