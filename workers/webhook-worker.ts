import { Client } from '@temporalio/client';
import { Worker, type DataConverter, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createWebhookActivities, type WebhookDependencies } from '../activities/webhooks';
import type { ShardSet } from '../db/shards';
import type { SealingKey } from '../domain/webhooks';
import type { WebhookRetrySchedule } from '../domain/webhook-deliveries';
import { webhookMetrics } from '../metrics/webhook-metrics';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import {
  enqueueWebhookEvents,
  ensureWebhookDispatchers,
  webhookTaskQueueOf,
} from '../temporal-client/webhook-deliveries';
import { workflows_path } from './create-worker';

/** What webhooks need from the configuration (config/index.ts webhookSettingsOf). */
export interface WebhookSettings {
  schedule: WebhookRetrySchedule;
  /** Events that may wait for one endpoint before it is disabled (WEBHOOK_BACKLOG_MAX). */
  backlogMax: number;
  requestTimeoutMs: number;
  allowPrivate: boolean;
  /** Deliveries in flight at once in this process: a slow consumer holds one slot, never a transfer's. */
  concurrency: number;
  /** How long a rotated-out secret keeps signing. */
  secretGraceMs: number;
}

export interface WebhookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The wallet's task queue; webhooks run on their own queue beside it (webhookTaskQueueOf). */
  taskQueue: string;
  shards: ShardSet;
  logger: Logger;
  metrics: Pick<WalletMetrics, 'registry'>;
  dataConverter: DataConverter;
  sealingKeys: readonly SealingKey[];
  settings: WebhookSettings;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Tests shorten the drain activity's run. */
  drainRunMs?: number;
}

/**
 * The webhook worker: the dispatchers and delivery workflows on a task queue of their own, so
 * deliveries (each an HTTP request to someone else's server) take slots of their own: a slow or
 * dead consumer fills at most WEBHOOK_CONCURRENCY of them, never the transfer worker's. Starts
 * each shard's dispatcher if none runs.
 */
export async function createWebhookWorker(options: WebhookWorkerOptions): Promise<Worker> {
  const client = new Client({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: options.dataConverter,
  });
  const starter = {
    client,
    taskQueue: options.taskQueue,
    schedule: options.settings.schedule,
    backlogMax: options.settings.backlogMax,
  };
  const deps: WebhookDependencies = {
    shards: options.shards,
    logger: options.logger,
    sealingKeys: options.sealingKeys,
    enqueue: (endpointId, refs, replay) => enqueueWebhookEvents(starter, endpointId, refs, replay),
    events: webhookMetrics(options.metrics.registry),
    allowPrivate: options.settings.allowPrivate,
    requestTimeoutMs: options.settings.requestTimeoutMs,
    ...(options.drainRunMs ? { drainRunMs: options.drainRunMs } : {}),
  };
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: webhookTaskQueueOf(options.taskQueue),
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflows_path }),
    activities: createWebhookActivities(deps),
    // One slot per shard's drain, and the deliveries' own (scheduled, in runs from before the
    // local deliveries; local ones have their own bound, the same WEBHOOK_CONCURRENCY).
    maxConcurrentActivityTaskExecutions: options.shards.count + options.settings.concurrency,
    maxConcurrentLocalActivityExecutions: options.settings.concurrency,
    maxCachedWorkflows: 200,
    shutdownGraceTime: '5s',
  });
  await ensureWebhookDispatchers(client, options.taskQueue, options.shards.count);
  return worker;
}
