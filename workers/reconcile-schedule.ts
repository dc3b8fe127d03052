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

/** The Schedule that runs reconcileWorkflow every RECONCILE_EVERY_MS (workers/interval-schedule.ts). */
export async function ensureReconcileSchedule(options: ReconcileScheduleOptions): Promise<void> {
  await ensureIntervalSchedule({
    client: options.client,
    taskQueue: options.taskQueue,
    scheduleId: options.scheduleId ?? reconcile_schedule_id,
    workflowType: reconcileWorkflow,
    args: [],
    everyMs: options.everyMs,
  });
}
