import { dropDatabases, dropDatabasesWithPrefix, withServerAdmin } from './admin';
import { prepareShards } from './migrate';

/**
 * Databases a tool makes for one run and drops after it (the test runner, the bench, the chaos
 * run), named `<prefix><pid>_<suffix>` so that what a killed run left behind can be found.
 */

/** What a run must undo however it ends (bench/cleanup.ts): steps added here run when it stops. */
interface CleanupSteps {
  add(name: string, run: () => Promise<unknown> | void): void;
}

/** "postgres://u@h:5432/db?x" or "postgres://u@h:5432" -> "postgres://u@h:5432". */
export function serverOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : ''}${parsed.host}`;
}

/** "postgres://u@h:5432/db" -> "db". */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

export function isLoopback(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/**
 * `count` fresh, migrated shard databases `<prefix><pid>_<index>`, shard i on server i mod n.
 * Those that dead runs with the same prefix left on this machine's servers are dropped first
 * (a pid says nothing about another host).
 */
export async function createShards(
  spec: { servers: readonly string[]; count: number; prefix: string },
  cleanup: CleanupSteps,
): Promise<string[]> {
  for (const server of new Set(spec.servers)) {
    if (isLoopback(new URL(server).hostname)) await dropDatabasesOfDeadRuns(server, spec.prefix);
  }
  const urls = Array.from(
    { length: spec.count },
    (_, index) => `${spec.servers[index % spec.servers.length]}/${spec.prefix}${process.pid}_${index}`,
  );
  // Registered before creating, so a run stopped half way drops what it made.
  cleanup.add('drop shard databases', () => dropDatabasesAt(urls));
  await prepareShards(urls);
  return urls;
}

export async function dropDatabasesAt(databaseUrls: readonly string[]): Promise<void> {
  const byServer = new Map<string, string[]>();
  for (const url of databaseUrls) {
    const names = byServer.get(serverOf(url)) ?? [];
    names.push(databaseOf(url));
    byServer.set(serverOf(url), names);
  }
  for (const [server, names] of byServer) await dropDatabases(server, names);
}

/** Databases `<prefix><pid>_...` of runs that were killed before they could drop them (their pid is gone). */
export async function dropDatabasesOfDeadRuns(serverUrl: string, prefix: string): Promise<void> {
  const pids = await withServerAdmin(serverUrl, async (admin) => {
    const found = await admin.query<{ pid: string | null }>(
      `select distinct substring(substr(datname, length($1::text) + 1) from '^([0-9]+)_') as pid
         from pg_database where starts_with(datname, $1::text)`,
      [prefix],
    );
    return found.rows.map((row) => Number(row.pid)).filter((pid) => Number.isInteger(pid) && pid > 0);
  });
  for (const pid of pids) {
    if (pid !== process.pid && !isRunning(pid)) await dropDatabasesWithPrefix(serverUrl, `${prefix}${pid}_`);
  }
}

/** Signal 0 only asks whether the process exists. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
