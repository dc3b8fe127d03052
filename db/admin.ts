import pg from 'pg';
import { watchConnection } from './connection-errors';

/** "postgres://user@host:5432/db?x" -> "postgres://user@host:5432": the server a database URL names. */
export function serverUrlOf(databaseUrl: string): string {
  return databaseUrl.replace(/\/[A-Za-z0-9_]+(\?\S*)?$/, '');
}

/** Runs work on a connection to the server's `postgres` database (creating and dropping databases). */
export async function withServerAdmin<T>(serverUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = watchConnection(
    new pg.Client({ connectionString: `${serverUrl}/postgres`, application_name: 'wallet-admin' }),
    'admin',
  );
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Names come from our own code (prefixes, pids, random tags), quoted all the same. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function dropDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  await withServerAdmin(serverUrl, async (admin) => {
    for (const name of names) await admin.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
  });
}

export async function dropDatabasesWithPrefix(serverUrl: string, prefix: string): Promise<void> {
  const names = await withServerAdmin(serverUrl, async (admin) => {
    const found = await admin.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1::text)',
      [prefix],
    );
    return found.rows.map((row) => row.datname);
  });
  await dropDatabases(serverUrl, names);
}

/**
 * Cuts the wallet's connections to the given databases, as a shard's failover or a DBA would;
 * returns how many. `applications` is an application_name pattern: every wallet connection by
 * default, or only the shard pools (`wallet-shard-%`).
 */
export async function terminateWalletConnections(
  serverUrl: string,
  databases: readonly string[],
  applications = 'wallet-%',
): Promise<number> {
  return withServerAdmin(serverUrl, async (admin) => {
    // In the select list, so only the rows the filter kept are terminated.
    const cut = await admin.query<{ cut: boolean }>(
      `select pg_terminate_backend(pid) as cut from pg_stat_activity
        where datname = any($1::text[]) and application_name like $2::text and pid <> pg_backend_pid()`,
      [databases, applications],
    );
    return cut.rows.filter((row) => row.cut).length;
  });
}
