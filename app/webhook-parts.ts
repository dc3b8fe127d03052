import type { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { webhookSettingsOf } from '../config';
import type { ShardSet } from '../db/shards';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import type { walletDataConverter } from '../temporal-client/payload-codec';
import { createWebhookWorker } from '../workers/webhook-worker';

/**
 * The webhook worker beside the wallet's (README "Webhooks"): its own task queue and slots, on
 * the same connection. Answers its closer: the worker drains, then the connection may close.
 */
export async function startWebhookWorker(
  parts: {
    settings: Config;
    shards: ShardSet;
    logger: Logger;
    metrics: WalletMetrics;
    dataConverter: ReturnType<typeof walletDataConverter>;
  },
  connection: NativeConnection,
): Promise<() => Promise<unknown>> {
  const { settings, logger } = parts;
  const worker = await createWebhookWorker({
    connection,
    namespace: settings.TEMPORAL_NAMESPACE,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    shards: parts.shards,
    logger,
    metrics: parts.metrics,
    dataConverter: parts.dataConverter,
    sealingKeys: settings.payloadKeys,
    settings: webhookSettingsOf(settings),
  });
  const running = worker
    .run()
    .catch((error: unknown) => logger.error({ err: error }, 'webhook worker stopped with an error'));
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}
