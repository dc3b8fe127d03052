import { randomBytes } from 'node:crypto';
import pg from 'pg';
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

/**
 * A lock held on a shard by a session of its own, as another client holding it would: `statement`
 * (a `lock table` or a `select ... for update`) runs in a transaction left open until `release`.
 */
export async function holdLock(
  url: string,
  statement: string,
  params: unknown[] = [],
): Promise<{ rowCount: number | null; release: () => Promise<void> }> {
  const locker = new pg.Client({ connectionString: url, application_name: 'test-locker' });
  locker.on('error', () => undefined);
  await locker.connect();
  await locker.query('begin');
  const { rowCount } = await locker.query(statement, params);
  return {
    rowCount,
    release: async () => {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
    },
  };
}
