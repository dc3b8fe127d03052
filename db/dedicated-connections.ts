import pg from 'pg';
import { watchConnection } from './connection-errors';

/**
 * Runs work on one fresh connection per database URL, all closed afterwards, also when the work
 * throws. For long reads that must not take a pooled connection from the ledger legs (a leg
 * waiting for one fails after a few seconds) nor live under the pools' statement cap, which is
 * sized for a leg, not for a scan of a whole shard.
 */
export async function withDedicatedConnections<T>(
  urls: readonly string[],
  options: { applicationName: string; statementTimeoutMs: number },
  work: (clients: readonly pg.Client[]) => Promise<T>,
): Promise<T> {
  // A connection that drops must not crash the process: it is logged, and the query in flight (or the next) fails.
  const clients = urls.map((connectionString, index) =>
    watchConnection(
      new pg.Client({
        connectionString,
        application_name: `${options.applicationName}-${index}`,
        statement_timeout: options.statementTimeoutMs,
      }),
      `${options.applicationName}-${index}`,
    ),
  );
  try {
    await Promise.all(clients.map((client) => client.connect()));
    return await work(clients);
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}
