import pg from 'pg';
import { watchConnection } from '../../db/connection-errors';
import { prepareShards } from '../../db/migrate';
import { postLeg } from '../../ledger/postings';
import type { Cleanup } from '../cleanup';
import type { BenchUsers } from '../load/users';
import { dropDatabasesAt } from '../../db/throwaway-databases';
import { databaseName } from '../stack/databases';
import { bench_currency } from '../targets/http-transfers';
import { funding_per_user_minor } from './api';
import { forEachLimited } from '../../workers/for-each-limited';

/** The wallet's shard pool size by default (config SHARD_POOL_SIZE), so the raw baseline gets as many connections as one shard does. */
const raw_pool_size = Number(process.env.SHARD_POOL_SIZE ?? '10');

/**
 * The raw PostgreSQL baseline's database: one migrated shard holding every benchmark user
 * (inserted directly), each funded with a deposit leg from settlement, as the real run's are.
 */
export async function prepareRawPg(
  serverUrl: string,
  users: BenchUsers,
  cleanup: Cleanup,
): Promise<{ url: string; pool: pg.Pool }> {
  const url = `${serverUrl}/${databaseName('raw')}`;
  cleanup.add('drop raw PostgreSQL database', () => dropDatabasesAt([url]));
  await prepareShards([url]);
  const pool = new pg.Pool({ connectionString: url, max: raw_pool_size, application_name: 'wallet-bench-raw' });
  pool.on('connect', (client) => watchConnection(client, 'bench raw pg'));
  pool.on('error', () => undefined);
  pool.on('error', () => undefined);
  cleanup.add('close raw PostgreSQL pool', () => pool.end());
  await pool.query('insert into users (user_id) select unnest($1::text[])', [users.all]);
  await forEachLimited(users.all, raw_pool_size, async (userId) => {
    const funded = await postLeg(pool, {
      transferId: `raw_seed_${userId}`,
      leg: 'credit',
      userId,
      customerDeltaMinor: funding_per_user_minor,
      currency: bench_currency,
      counterparty: 'settlement',
      customerEntryKind: 'deposit',
      ignoreHolds: false,
      workflowId: 'bench-raw-pg',
      runId: 'bench-raw-pg',
    });
    if (funded.outcome !== 'posted') throw new Error(`funding ${userId} in the raw database: ${funded.outcome}`);
  });
  return { url, pool };
}
