import { Connection, Client } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import { exposeSdkMetrics } from '../metrics/wallet-metrics';

/** A client that connects lazily, so the API can start (and say "not ready") while Temporal is down. */
export function createTemporalClient(address: string, namespace: string): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address });
  return { client: new Client({ connection, namespace }), connection };
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/**
 * Routes the Temporal SDK's own log lines into pino so every line of the worker is JSON, and,
 * given an address, has the SDK export its runtime metrics (worker slots, polls, sticky cache)
 * there for `/metrics` to append. A taken address (two wallet processes on one machine) costs
 * only the SDK metrics: a warning, and the runtime is installed without them.
 */
export function installTemporalLogging(logger: Logger, sdkMetricsAddress?: string): void {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  const install = (metricsAddress: string | undefined) =>
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        // pino serializes errors only under `err`; the SDK puts them under `error`.
        const { error, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
        logger[levels[entry.level]](
          { ...meta, ...(error === undefined ? {} : { err: error }), sdk: true },
          entry.message,
        );
      }),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(metricsAddress === undefined ? {} : { metrics: { prometheus: { bindAddress: metricsAddress } } }),
      },
      // The wallet process orders its own shutdown (requests, then the worker, then the pools),
      // so the runtime must not stop the worker on a signal behind its back.
      shutdownSignals: [],
    });
  if (sdkMetricsAddress === undefined) {
    install(undefined);
    return;
  }
  try {
    install(sdkMetricsAddress);
    exposeSdkMetrics(sdkMetricsAddress);
  } catch (error) {
    // Runtime.install throws before it keeps anything when the exporter cannot bind, so a second install is allowed.
    logger.warn(
      { err: error, address: sdkMetricsAddress },
      'Temporal SDK metrics are off: their exporter could not listen (set TEMPORAL_SDK_METRICS_ADDRESS)',
    );
    install(undefined);
  }
}
