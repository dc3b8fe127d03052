import { dropDatabases, dropDatabasesWithPrefix, withServerAdmin } from '../../db/admin';
import { isProcessAlive } from '../../supervisor/children';

/** "postgres://u@h:5432/db?x" or "postgres://u@h:5432" -> "postgres://u@h:5432". */
export function serverOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : ''}${parsed.host}`;
}

/**
 * Database names for this run: `<prefix>bench_<pid>_<suffix>`. The prefix is the test runner's
 * (WALLET_TEST_DB_PREFIX) under `npm test`, so its cleanup covers a bench it runs.
 */
export function benchDatabasePrefix(): string {
  return `${process.env.WALLET_TEST_DB_PREFIX ?? 'wallet_'}bench_`;
}

export function databaseName(suffix: string): string {
  return `${benchDatabasePrefix()}${process.pid}_${suffix}`;
}

export async function dropDatabasesAt(databaseUrls: readonly string[]): Promise<void> {
  const byServer = new Map<string, string[]>();
  for (const url of databaseUrls) {
    const names = byServer.get(serverOf(url)) ?? [];
    names.push(decodeURIComponent(new URL(url).pathname.slice(1)));
    byServer.set(serverOf(url), names);
  }
  for (const [server, names] of byServer) await dropDatabases(server, names);
}

/**
 * Databases of bench runs that were killed before they could drop them (their pid is gone).
 * Another tool naming its databases `<prefix><pid>_...` (the chaos run) passes its own prefix.
 */
export async function dropDatabasesOfDeadRuns(serverUrl: string, prefix = benchDatabasePrefix()): Promise<void> {
  const pids = await withServerAdmin(serverUrl, async (admin) => {
    const found = await admin.query<{ pid: string }>(
      `select distinct substring(datname from length($1::text) + 1 for position('_' in substring(datname from length($1::text) + 1)) - 1) as pid
         from pg_database where starts_with(datname, $1::text)`,
      [prefix],
    );
    return found.rows.map((row) => Number(row.pid)).filter((pid) => Number.isInteger(pid) && pid > 0);
  });
  for (const pid of pids) {
    if (pid !== process.pid && !isProcessAlive(pid)) await dropDatabasesWithPrefix(serverUrl, `${prefix}${pid}_`);
  }
}
