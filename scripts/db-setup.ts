/** `npm run db:setup`: creates the shard databases that are missing and migrates every shard. */
import { config } from '../config';
import { prepareShards } from '../db/migrate';
import { describeStartupError } from '../supervisor/startup-errors';

async function run() {
  const settings = config();
  await prepareShards(settings.shardUrls, { snapshotEvery: settings.SNAPSHOT_EVERY });
  console.log(`wallet: ${settings.shardUrls.length} shards ready`);
}

run().catch((error) => {
  console.error(`wallet db:setup: ${describeStartupError(error)}`);
  process.exit(1);
});
