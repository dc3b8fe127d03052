import { config, timingsOf } from '../config';
import { ShardSet } from '../db/shards';
import { createLogger } from '../runtime/logger';
import { connectWorker, createTemporalClient, installTemporalLogging } from '../runtime/temporal';
import { describeStartupError } from '../runtime/startup-errors';
import { createWalletWorker } from './create-worker';
import { runOrphanSweeper } from './orphan-sweeper';

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
  const temporal = createTemporalClient(settings.temporalAddress, settings.TEMPORAL_NAMESPACE);
  const stopSweeper = runOrphanSweeper(
    {
      shards,
      client: temporal.client,
      taskQueue: settings.TEMPORAL_TASK_QUEUE,
      timings: timingsOf(settings),
      logger,
      orphanAgeMinMs: settings.ORPHAN_AGE_MIN_MS,
    },
    settings.ORPHAN_SWEEP_INTERVAL_MS,
  );
  logger.info({ task_queue: settings.TEMPORAL_TASK_QUEUE, shards: shards.count }, 'worker started');
  // Worker installs SIGINT/SIGTERM handlers itself and drains before run() resolves.
  await worker.run();
  await stopSweeper();
  await temporal.connection.close();
  await connection.close();
  await shards.close();
  logger.info('worker stopped');
}

run().catch((error) => {
  console.error(`wallet worker: ${describeStartupError(error)}`);
  process.exit(1);
});
