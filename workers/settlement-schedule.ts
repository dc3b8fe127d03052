import type { Client } from '@temporalio/client';
import { settlementReconcileWorkflow } from '../workflows/settlement-reconcile';
import { ensureIntervalSchedule, scheduleIdFor } from './interval-schedule';

/**
 * The `wallet-settlement-reconciliation` Schedule: every SETTLEMENT_RECONCILE_EVERY it runs
 * settlementReconcileWorkflow with no dates, which matches yesterday's and today's statements
 * (workers/interval-schedule.ts keeps it in step with the configuration).
 */
export async function ensureSettlementSchedule(options: {
  client: Client;
  taskQueue: string;
  everyMs: number;
}): Promise<void> {
  await ensureIntervalSchedule(
    { ...options, scheduleId: scheduleIdFor('wallet-settlement-reconciliation', options.taskQueue) },
    settlementReconcileWorkflow,
  );
}
