import { Connection, Client } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

/** A client that connects lazily, so the API can start (and say "not ready") while Temporal is down. */
export function createTemporalClient(address: string, namespace: string): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address });
  return { client: new Client({ connection, namespace }), connection };
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/** Routes the Temporal SDK's own log lines into pino so every line of the worker is JSON. */
export function installTemporalLogging(logger: Logger): void {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      // pino serializes errors only under `err`; the SDK puts them under `error`.
      const { error, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      logger[levels[entry.level]]({ ...meta, ...(error === undefined ? {} : { err: error }), sdk: true }, entry.message);
    }),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    // The wallet process orders its own shutdown (requests, then the worker, then the pools),
    // so the runtime must not stop the worker on a signal behind its back.
    shutdownSignals: [],
  });
}
