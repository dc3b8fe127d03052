import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { watchConnection } from '../db/connection-errors';
import { ensureDatabase } from '../db/migrate';

/** The bank's migrations: its own directory and table, never the wallet shards' (migrations/). */
const bank_migrations_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const pool_size = 5;

/** Creates the bank's database when missing and brings it to the newest migration. */
export async function prepareBankDatabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const client = watchConnection(
    new pg.Client({ connectionString: databaseUrl, application_name: 'bank-migrate' }),
    'bank-migrate',
  );
  await client.connect();
  try {
    await runner({
      dbClient: client,
      dir: bank_migrations_dir,
      direction: 'up',
      migrationsTable: 'bank_migrations',
      count: Infinity,
      checkOrder: true,
      log: () => undefined,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function bankPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: pool_size, application_name: 'bank' });
  pool.on('connect', (client) => void watchConnection(client, 'bank'));
  // An idle client's lost connection is reported on the pool; it is dropped and the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** The bank's transactions are the wallet's kind (db/pool-transaction.ts). */
export { withPoolTransaction as withTransaction } from '../db/pool-transaction';
