import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The JetStream relay's series (workers/event-relay.ts), labelled by shard index. Only the
 * process that relays a shard (holds its lock) reports its lag; the others drop the shard's
 * series, so a sum or max over the scraped processes is the shard's lag.
 */
export function eventRelayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    lagEvents: new Gauge({
      name: 'wallet_event_relay_lag_events',
      help: 'Committed wallet events of a shard not yet acknowledged by JetStream (counted up to 100000), by shard; reported by the process relaying the shard',
      labelNames: ['shard'],
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'wallet_event_relay_lag_seconds',
      help: 'Age of the oldest wallet event of a shard not yet acknowledged by JetStream (0: none), by shard',
      labelNames: ['shard'],
      registers,
    }),
    published: new Counter({
      name: 'wallet_event_relay_published_total',
      help: 'Wallet events this process published to JetStream, by shard and whether the stream already had the event (duplicate: a republish after a crash)',
      labelNames: ['shard', 'duplicate'],
      registers,
    }),
    errors: new Counter({
      name: 'wallet_event_relay_errors_total',
      help: 'Relay rounds that failed (the broker or the shard); the relay starts again from its stored cursor, by shard',
      labelNames: ['shard'],
      registers,
    }),
  };
}

export type EventRelayMetrics = ReturnType<typeof eventRelayMetrics>;
