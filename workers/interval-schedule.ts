import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type Workflow,
} from '@temporalio/client';
import { wallet_task_queue_default } from '../config';

/** The server refuses a shorter catch-up window. */
const catchup_window_min_ms = 10_000;

export interface IntervalScheduleOptions {
  client: Client;
  taskQueue: string;
  everyMs: number;
  scheduleId: string;
}

/**
 * The id of the wallet's Schedule `name` for the wallet on `taskQueue`: the plain name on the
 * default queue (the ids the README names), the name and the queue on any other. Two wallets
 * sharing a namespace on different queues (two deployments, or two test files on one dev
 * server) then never take over each other's Schedules: each start updates the Schedule to its
 * own queue (ensureIntervalSchedule), so a shared id would run on whichever started last.
 */
export function scheduleIdFor(name: string, taskQueue: string): string {
  return taskQueue === wallet_task_queue_default ? name : `${name}@${taskQueue}`;
}

/**
 * Makes the Temporal Schedule `scheduleId` run `workflow` every `everyMs`, matching the
 * configuration: created on the first worker start, updated on every later one (a changed
 * interval or task queue takes effect), so starting many workers is harmless. A run still going
 * when the next is due makes the schedule skip that one (overlap SKIP), and after an outage at
 * most one missed run is made up: each run is about now, not about then. An operator's pause
 * survives the update.
 */
export async function ensureIntervalSchedule(options: IntervalScheduleOptions, workflow: Workflow): Promise<void> {
  const { scheduleId } = options;
  const spec = { intervals: [{ every: options.everyMs }] };
  const action: ScheduleOptionsStartWorkflowAction<Workflow> = {
    type: 'startWorkflow',
    workflowType: workflow,
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
