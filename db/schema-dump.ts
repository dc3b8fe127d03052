import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dropDatabases } from './admin';
import { ensureDatabase, migrateShard } from './migrate';

/** The committed dump of a freshly migrated shard: the whole schema at a glance, and a check that it is what the code builds. */
export const schema_file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'schema.sql');

export const schema_refresh_command = 'npm run db:schema';

/** A shard's schema as pg_dump prints it, without what changes from one dump to the next. */
export async function dumpSchema(databaseUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-privileges', `--dbname=${databaseUrl}`],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return normalizeSchemaDump(stdout);
}

/**
 * Drops the lines that name pg_dump's and the server's versions, and the `\restrict` /
 * `\unrestrict` lines whose key newer 15.x releases draw at random for every dump.
 */
function normalizeSchemaDump(dump: string): string {
  return dump
    .split('\n')
    .filter((line) => !/^-- Dumped (from database|by pg_dump) version /.test(line))
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join('\n');
}

/** Migrates a scratch database on the server the way every shard is migrated, dumps it, drops it. */
export async function dumpFreshSchema(serverUrl: string): Promise<string> {
  const name = `wallet_schema_${process.pid}`;
  const url = `${serverUrl}/${name}`;
  await dropDatabases(serverUrl, [name]);
  await ensureDatabase(url);
  try {
    await migrateShard(url);
    return await dumpSchema(url);
  } finally {
    await dropDatabases(serverUrl, [name]);
  }
}
