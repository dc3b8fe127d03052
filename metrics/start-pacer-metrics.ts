import { Counter, Gauge, type Registry } from 'prom-client';

/** What the start pacer (temporal-client/start-pacer.ts) did: one set per wallet process that runs a worker. */
export function startPacerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    deferred: new Counter({
      name: 'wallet_transfer_starts_deferred_total',
      help: 'Transfers accepted while the process ran TRANSFER_START_WINDOW unfinished transfers: recorded and answered 202, their start left to the start pacer',
      registers,
    }),
    waiting: new Gauge({
      name: 'wallet_transfer_starts_waiting',
      help: 'Deferred transfer starts the start pacer holds now (started in order as running transfers finish)',
      registers,
    }),
  };
}
