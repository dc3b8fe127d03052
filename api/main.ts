import { config, timingsOf } from '../config';
import { ShardSet } from '../db/shards';
import { createLogger } from '../runtime/logger';
import { describeStartupError } from '../runtime/startup-errors';
import { createTemporalClient } from '../runtime/temporal';
import { createApp } from './app';

async function run() {
  const settings = config();
  const logger = createLogger('api', settings.LOG_LEVEL);
  if (settings.usesDevAuthSecret) logger.warn('AUTH_SECRET is the documented development default; set your own outside development');
  const shards = new ShardSet(settings.shardUrls, settings.SHARD_POOL_SIZE);
  await shards.ping();
  const { client, connection } = createTemporalClient(settings.temporalAddress, settings.TEMPORAL_NAMESPACE);
  const app = createApp({
    shards,
    client,
    logger,
    authSecret: settings.AUTH_SECRET,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    timings: timingsOf(settings),
  });
  const server = app.listen(settings.PORT, settings.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ url: `http://${settings.HOST}:${settings.PORT}` }, 'api listening');

  const shutdown = () => {
    logger.info('api stopping');
    server.close(() => {
      void Promise.allSettled([connection.close(), shards.close()]).then(() => process.exit(0));
    });
    server.closeAllConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

run().catch((error) => {
  console.error(`wallet api: ${describeStartupError(error)}`);
  process.exit(1);
});
