import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { WebhookEventRef, WebhookRetrySchedule } from '../domain/webhook-deliveries';
import { webhookDeliveryWorkflow, webhookDispatchWorkflow, webhookEventsSignal } from '../workflows/webhooks';

/** Where webhook workflows run: beside the wallet's task queue, on a worker of their own. */
export function webhookTaskQueueOf(taskQueue: string): string {
  return `${taskQueue}-webhooks`;
}

export interface WebhookDeliveryStarter {
  client: Client;
  /** The wallet's task queue (TEMPORAL_TASK_QUEUE); the webhook one is derived from it. */
  taskQueue: string;
  schedule: WebhookRetrySchedule;
  /** Events that may wait for one endpoint (WEBHOOK_BACKLOG_MAX). */
  backlogMax: number;
}

/** A signal carries at most this many events, so no signal payload nears Temporal's limits. */
const refs_per_signal_max = 500;

/**
 * Hands events to the endpoint's delivery workflow, in order, starting it when it is not running
 * (signal-with-start). One workflow per endpoint: its id is the endpoint's.
 */
export async function enqueueWebhookEvents(
  starter: WebhookDeliveryStarter,
  endpointId: string,
  refs: WebhookEventRef[],
  replay: boolean,
): Promise<void> {
  for (let from = 0; from < refs.length; from += refs_per_signal_max) {
    await starter.client.workflow.signalWithStart(webhookDeliveryWorkflow, {
      workflowId: `${webhookTaskQueueOf(starter.taskQueue)}-${endpointId}`,
      taskQueue: webhookTaskQueueOf(starter.taskQueue),
      args: [{ endpointId, schedule: starter.schedule, backlogMax: starter.backlogMax }],
      signal: webhookEventsSignal,
      signalArgs: [{ refs: refs.slice(from, from + refs_per_signal_max), replay }],
    });
  }
}

/** Starts each shard's dispatcher unless it already runs (any number of workers may call this). */
export async function ensureWebhookDispatchers(client: Client, taskQueue: string, shardCount: number) {
  for (let shard = 0; shard < shardCount; shard++) {
    await client.workflow
      .start(webhookDispatchWorkflow, {
        workflowId: `${webhookTaskQueueOf(taskQueue)}-dispatch-${shard}`,
        taskQueue: webhookTaskQueueOf(taskQueue),
        args: [{ shard }],
      })
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      });
  }
}
