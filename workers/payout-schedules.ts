import type { Client } from '@temporalio/client';
import { payoutCutoffWorkflow, payoutInboundWorkflow } from '../workflows/payout-files';
import { ensureIntervalSchedule, scheduleIdFor } from './interval-schedule';

export interface PayoutScheduleOptions {
  client: Client;
  taskQueue: string;
  /** PAYOUT_CUTOFF_EVERY: how often a cutoff puts the waiting payouts into a file. */
  cutoffEveryMs: number;
  /** PAYOUT_INBOUND_EVERY: how often the bank is asked what settled and what came back. */
  inboundEveryMs: number;
  /** Tests use their own ids, so they never touch the wallet's. */
  scheduleIdPrefix?: string;
}

/**
 * The payouts' two Schedules (docs/rails.md): `wallet-payout-cutoff` runs payoutCutoffWorkflow,
 * `wallet-payout-inbound` runs payoutInboundWorkflow. Overlapping runs are skipped: one file is
 * worked on at a time, and one reader moves the feed's cursor.
 */
export async function ensurePayoutSchedules(options: PayoutScheduleOptions): Promise<string[]> {
  const prefix = options.scheduleIdPrefix ?? 'wallet-payout';
  const cutoffId = scheduleIdFor(`${prefix}-cutoff`, options.taskQueue);
  const inboundId = scheduleIdFor(`${prefix}-inbound`, options.taskQueue);
  const base = { client: options.client, taskQueue: options.taskQueue };
  await ensureIntervalSchedule({ ...base, everyMs: options.cutoffEveryMs, scheduleId: cutoffId }, payoutCutoffWorkflow);
  await ensureIntervalSchedule(
    { ...base, everyMs: options.inboundEveryMs, scheduleId: inboundId },
    payoutInboundWorkflow,
  );
  return [cutoffId, inboundId];
}
