import type { Client } from '@temporalio/client';
import { reconcileWorkflow } from '../workflows/reconcile';
import { ensureIntervalSchedule, scheduleIdFor } from './interval-schedule';

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
 * in step with the configuration (workers/interval-schedule.ts): a reconciliation is about now,
 * not about then, so an outage makes up at most one missed run.
 */
export async function ensureReconcileSchedule(options: ReconcileScheduleOptions): Promise<void> {
  await ensureIntervalSchedule(
    { ...options, scheduleId: options.scheduleId ?? scheduleIdFor(reconcile_schedule_id, options.taskQueue) },
    reconcileWorkflow,
  );
}
