import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The API's own series, on the process's registry; made once per registry, however many apps a process creates (tests make several). */
function createApiSeries(registry: Registry) {
  const registers = [registry];
  return {
    requestSeconds: new Histogram({
      name: 'wallet_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    transfersSubmitted: new Counter({
      name: 'wallet_transfers_submitted_total',
      help: 'Transfer requests accepted, by kind and whether they replayed an existing transfer',
      labelNames: ['kind', 'replayed'],
      registers,
    }),
    workflowStarts: new Counter({
      name: 'wallet_transfer_workflow_starts_total',
      help: "Transfer workflow starts: eager (on this process's worker), queued (through the task queue), existing (joined) or final (nothing to start)",
      labelNames: ['outcome'],
      registers,
    }),
  };
}

const series_by_registry = new WeakMap<Registry, ReturnType<typeof createApiSeries>>();

export function createMetrics(registry: Registry) {
  let series = series_by_registry.get(registry);
  if (!series) series_by_registry.set(registry, (series = createApiSeries(registry)));
  const { requestSeconds, transfersSubmitted, workflowStarts } = series;

  /** Labels use the route pattern, never the raw path, so user ids cannot explode cardinality. */
  const observeRequests: RequestHandler = (request, response, next) => {
    const stop = requestSeconds.startTimer();
    response.on('finish', () => {
      const route = request.route?.path ? `${request.baseUrl}${String(request.route.path)}` : 'unmatched';
      stop({ method: request.method, route, status: String(response.statusCode) });
    });
    next();
  };

  return { registry, transfersSubmitted, workflowStarts, observeRequests };
}

export type Metrics = ReturnType<typeof createMetrics>;
