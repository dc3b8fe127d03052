import type pg from 'pg';
import { withDedicatedConnections } from './dedicated-connections';

/**
 * Runs work while holding a session-level advisory lock on one database, taken on a connection
 * of its own (never one a ledger leg needs). When another session holds the lock it answers
 * false at once, without running work. The lock ends with that connection: when work settles,
 * and also when the process holding it dies. work gets that connection: what it queries on it
 * fails once the lock is lost (the connection dropped), so it cannot go on unknowingly.
 */
export async function withSessionLock(
  url: string,
  lock: { key: bigint; name: string },
  work: (client: pg.Client) => Promise<void>,
): Promise<boolean> {
  return withDedicatedConnections(
    [url],
    { applicationName: lock.name, statementTimeoutMs: 10_000 },
    async ([client]) => {
      const found = await client!.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
        lock.key.toString(),
      ]);
      if (!found.rows[0]!.locked) return false;
      await work(client!);
      return true;
    },
  );
}
