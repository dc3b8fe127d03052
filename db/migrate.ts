import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { quoteIdentifier, serverUrlOf, withServerAdmin } from './admin';
import { watchConnection } from './connection-errors';
import { applyFunctionDefinitions } from './function-definitions';

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

/**
 * Applies the ledger migrations to one shard; node-pg-migrate locks and records them. Then the SQL
 * functions' living definitions (db/functions/, see db/function-definitions.ts). It gets our
 * own client, because the one it would make has no `error` listener: a dropped connection must
 * fail the migration, not crash the process that runs it.
 */
export async function migrateShard(databaseUrl: string): Promise<void> {
  const client = watchConnection(
    new pg.Client({ connectionString: databaseUrl, application_name: 'wallet-migrate' }),
    'migrate',
  );
  await client.connect();
  try {
    await runMigrations(client);
    await applyFunctionDefinitions(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runMigrations(dbClient: pg.Client): Promise<void> {
  await runner({
    dbClient,
    dir: migrations_dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    checkOrder: true,
    log: () => undefined,
  });
}

/** The settings the ledger's own SQL reads (migrations/1763769600009_ledger-chain.sql), from the configuration. */
export interface LedgerSettings {
  snapshotEvery: number;
}

/**
 * Creates and migrates every shard; with settings, also writes them to each shard's
 * ledger_settings row, where the entries trigger reads them (a database trigger cannot read the
 * process's environment). Without, a shard keeps what it has (1,000 after its migration).
 */
export async function prepareShards(urls: readonly string[], settings?: LedgerSettings): Promise<void> {
  for (const url of urls) {
    await ensureDatabase(url);
    await migrateShard(url);
    if (settings) await writeLedgerSettings(url, settings);
  }
}

async function writeLedgerSettings(databaseUrl: string, settings: LedgerSettings): Promise<void> {
  const client = watchConnection(
    new pg.Client({ connectionString: databaseUrl, application_name: 'wallet-migrate' }),
    'migrate',
  );
  await client.connect();
  try {
    const written = await client.query('update ledger_settings set snapshot_every = $1::int', [settings.snapshotEvery]);
    if (written.rowCount !== 1)
      throw new Error(`ledger_settings of ${databaseUrl} must have exactly one row, has ${written.rowCount}`);
  } finally {
    await client.end();
  }
}
