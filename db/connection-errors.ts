import type pg from 'pg';

/**
 * A pg client whose connection drops (a PostgreSQL restart, a failover, pg_terminate_backend)
 * emits `error` on itself, also while it is checked out of a pool, where the pool no longer
 * listens. An `error` event nobody listens to kills the process. Every client the wallet opens
 * gets the listener below: the loss is logged once, the query in flight fails, the client is
 * dropped (a pool never hands out a client that is not queryable) and the operation is retried
 * by whoever retries it (Temporal for a leg, the client for a request).
 */

/** Where lost connections are reported; the wallet process points it at its pino logger. */
export type ConnectionErrorLog = (details: { source: string; code: string | undefined; message: string }) => void;

let log: ConnectionErrorLog = (details) =>
  console.error(JSON.stringify({ level: 'warn', msg: 'PostgreSQL connection lost', ...details }));

export function setConnectionErrorLog(next: ConnectionErrorLog): void {
  log = next;
}

/** Logs a client's connection errors instead of letting them crash the process; returns the client. */
export function watchConnection<C extends pg.ClientBase>(client: C, source: string): C {
  let reported = false;
  client.on('error', (error: Error & { code?: string }) => {
    // A dead connection may report again (the socket's end after the server's FATAL message).
    if (reported) return;
    reported = true;
    log({ source, code: error.code, message: error.message });
  });
  return client;
}
