import { randomBytes } from 'node:crypto';
import { dropDatabases, quoteIdentifier, withServerAdmin } from '../../db/admin';
import { ShardSet } from '../../db/shards';
import { runnerEnv } from './runner-env';

/**
 * Fresh shard databases for one test file, copied from the migrated template the runner made
 * (CREATE DATABASE ... TEMPLATE is a file copy: far faster than migrating each one).
 */
export async function createTestShards(
  count = 4,
): Promise<{ shards: ShardSet; urls: string[]; drop: () => Promise<void> }> {
  const server_url = runnerEnv('WALLET_TEST_PG_URL');
  const prefix = runnerEnv('WALLET_TEST_DB_PREFIX');
  const template = runnerEnv('WALLET_TEST_TEMPLATE');
  const tag = randomBytes(3).toString('hex');
  const names = Array.from({ length: count }, (_, index) => `${prefix}${tag}_${index}`);
  await withServerAdmin(server_url, async (admin) => {
    for (const name of names)
      await admin.query(`create database ${quoteIdentifier(name)} template ${quoteIdentifier(template)}`);
  });
  const urls = names.map((name) => `${server_url}/${name}`);
  const shards = new ShardSet(urls, 20);
  return {
    shards,
    urls,
    drop: async () => {
      await shards.close();
      await dropDatabases(server_url, names);
    },
  };
}
