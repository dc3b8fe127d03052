import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestSeconds = new Histogram({
    name: 'wallet_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const transfersSubmitted = new Counter({
    name: 'wallet_transfers_submitted_total',
    help: 'Transfer requests accepted, by kind and whether they replayed an existing transfer',
    labelNames: ['kind', 'replayed'],
    registers: [registry],
  });
  const workflowStarts = new Counter({
    name: 'wallet_transfer_workflow_starts_total',
    help: 'Transfer workflow starts: eager (on this process\'s worker), queued (through the task queue), existing (joined) or final (nothing to start)',
    labelNames: ['outcome'],
    registers: [registry],
  });

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
