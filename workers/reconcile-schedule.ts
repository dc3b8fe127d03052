import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { reconcileWorkflow } from '../workflows/reconcile';

const reconcile_schedule_id = 'wallet-reconciliation';
/** The server refuses a shorter catch-up window. */
const catchup_window_min_ms = 10_000;

export interface ReconcileScheduleOptions {
  client: Client;
  taskQueue: string;
  everyMs: number;
  /** Tests use their own, so they never touch the wallet's. */
  scheduleId?: string;
}

/**
 * Makes the Temporal Schedule that runs reconcileWorkflow every `everyMs` match the
 * configuration: created on the first worker start, updated on every later one (a changed
 * RECONCILE_EVERY_MS or task queue takes effect), so starting many workers is harmless. A run
 * still going when the next is due makes the schedule skip that one (overlap SKIP), and after an
 * outage at most one missed run is made up: a reconciliation is about now, not about then.
 * An operator's pause survives the update.
 */
export async function ensureReconcileSchedule(options: ReconcileScheduleOptions): Promise<void> {
  const scheduleId = options.scheduleId ?? reconcile_schedule_id;
  const spec = { intervals: [{ every: options.everyMs }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof reconcileWorkflow> = {
    type: 'startWorkflow',
    workflowType: reconcileWorkflow,
    taskQueue: options.taskQueue,
    args: [],
    // The server appends each run's scheduled time, so every run has its own id.
    workflowId: scheduleId,
  };
  const policies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: Math.max(options.everyMs, catchup_window_min_ms),
  };
  try {
    await options.client.schedule.create({ scheduleId, spec, action, policies });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await options.client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ spec, action, policies, state: previous.state }));
  }
}
