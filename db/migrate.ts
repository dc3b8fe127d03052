import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { quoteIdentifier, serverUrlOf, withServerAdmin } from './admin';

const migrations_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Creates the database a URL names on its server when it is missing. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  await withServerAdmin(serverUrlOf(databaseUrl), async (admin) => {
    const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      // Two processes may race here; the loser's duplicate_database error means it exists now.
      await admin.query(`create database ${quoteIdentifier(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error;
      });
    }
  });
}

/** Applies the ledger migrations to one shard; node-pg-migrate locks and records them. */
export async function migrateShard(databaseUrl: string): Promise<void> {
  await runner({
    databaseUrl,
    dir: migrations_dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    checkOrder: true,
    log: () => undefined,
  });
}

export async function prepareShards(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    await ensureDatabase(url);
    await migrateShard(url);
  }
}
