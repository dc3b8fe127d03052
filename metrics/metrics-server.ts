import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { metrics_content_type, walletMetricsText } from './wallet-metrics';

/**
 * `/metrics` for a worker running alone (`npm run worker`), which has no API to serve it.
 * Returns a function that closes the server. A port already taken (several workers on one
 * machine) is a warning, not a reason to stop a worker that moves money.
 */
export async function serveWorkerMetrics(
  registry: Registry,
  port: number,
  host: string,
  logger: Logger,
): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    walletMetricsText(registry).then(
      (text) => response.writeHead(200, { 'content-type': metrics_content_type }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics could not be collected');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  const listening = await listen(server, port, host);
  if (!listening) {
    logger.warn({ port }, 'worker metrics are not served: the port is taken (set WORKER_METRICS_PORT)');
    return async () => undefined;
  }
  logger.info({ url: `http://${host}:${port}/metrics` }, 'worker metrics listening');
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A scraper's kept-alive connection would otherwise hold the process open.
      server.closeAllConnections();
    });
}

/** True once listening, false when the port is taken; any other error is thrown. */
function listen(server: Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
    );
    server.listen(port, host, () => resolve(true));
  });
}
