import { config } from '../config';
import { ShardSet } from '../db/shards';
import { createLogger } from '../runtime/logger';
import { connectWorker, installTemporalLogging } from '../runtime/temporal';
import { describeStartupError } from '../runtime/startup-errors';
import { createWalletWorker } from './create-worker';

async function run() {
  const settings = config();
  const logger = createLogger('worker', settings.LOG_LEVEL);
  installTemporalLogging(logger);
  const shards = new ShardSet(settings.shardUrls, settings.SHARD_POOL_SIZE);
  await shards.ping();
  const connection = await connectWorker(settings.temporalAddress);
  const worker = await createWalletWorker({
    connection,
    namespace: settings.TEMPORAL_NAMESPACE,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    shards,
    logger,
  });
  logger.info({ task_queue: settings.TEMPORAL_TASK_QUEUE, shards: shards.count }, 'worker started');
  // Worker installs SIGINT/SIGTERM handlers itself and drains before run() resolves.
  await worker.run();
  await connection.close();
  await shards.close();
  logger.info('worker stopped');
}

run().catch((error) => {
  console.error(`wallet worker: ${describeStartupError(error)}`);
  process.exit(1);
});
