import { readFileSync } from 'node:fs';
import { Connection, Client, type DataConverter, type TLSConfig } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { exposeSdkMetrics } from '../metrics/wallet-metrics';

type TemporalSettings = Pick<Config, 'temporalAddress' | 'temporalTls'>;

/**
 * What every connection of the wallet to Temporal is made with: the address, and with
 * TEMPORAL_TLS_* or TEMPORAL_API_KEY set, TLS (mutual with a client certificate) or an API key.
 * The files are read here, once per connection, so a renewed certificate is picked up on restart.
 */
export function temporalConnectionOptions(settings: TemporalSettings): {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
} {
  const tls = settings.temporalTls;
  if (!tls) return { address: settings.temporalAddress };
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${name} (${file}) cannot be read: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    address: settings.temporalAddress,
    tls: {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.caPath ? { serverRootCACertificate: read('TEMPORAL_TLS_CA', tls.caPath) } : {}),
      ...(tls.certPath && tls.keyPath
        ? {
            clientCertPair: {
              crt: read('TEMPORAL_TLS_CERT', tls.certPath),
              key: read('TEMPORAL_TLS_KEY', tls.keyPath),
            },
          }
        : {}),
    },
    ...(tls.apiKey ? { apiKey: tls.apiKey } : {}),
  };
}

/** A client that connects lazily, so the API can start (and say "not ready") while Temporal is down. */
export function createTemporalClient(
  settings: TemporalSettings,
  namespace: string,
  dataConverter: DataConverter,
): { client: Client; connection: Connection } {
  const connection = Connection.lazy(temporalConnectionOptions(settings));
  return { client: new Client({ connection, namespace, dataConverter }), connection };
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(settings));
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
