import type { Client } from '@temporalio/client';
import { reconcileWorkflow } from '../workflows/reconcile';
import { ensureIntervalSchedule } from './interval-schedule';

const reconcile_schedule_id = 'wallet-reconciliation';

export interface ReconcileScheduleOptions {
  client: Client;
  taskQueue: string;
  everyMs: number;
  /** Tests use their own, so they never touch the wallet's. */
  scheduleId?: string;
}

/**
 * The Temporal Schedule that runs reconcileWorkflow every `everyMs` (RECONCILE_EVERY_MS), kept
 * matching the configuration as workers/interval-schedule.ts describes: a reconciliation is
 * about now, so overlapping runs are skipped and at most one missed run is made up.
 */
export async function ensureReconcileSchedule(options: ReconcileScheduleOptions): Promise<void> {
  await ensureIntervalSchedule(
    { ...options, scheduleId: options.scheduleId ?? reconcile_schedule_id },
    reconcileWorkflow,
  );
}
