import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withSessionLock } from '../db/session-lock';
import { relayCursorOf, relayLagOf, storeRelayCursor } from '../ledger/event-relay-cursors';
import { shardEventsAfter } from '../ledger/wallet-events';
import type { EventRelayMetrics } from '../metrics/event-relay-metrics';
import { connectEventStream, eventSubject, type EventPublisher } from './event-stream';

/**
 * The JetStream relay (issue 20 §4, docs/events.md, "The stream"): drains each shard's wallet
 * events outbox in (xid, position) order, publishes every event with its id as the message id,
 * and stores its cursor on the shard only after the broker acknowledged every event up to it.
 * It runs in each wallet worker process; per shard, one process relays at a time: the one that
 * holds the shard's advisory lock, on the dedicated connection the drain also reads through.
 */

/** The relay's row in event_relay_cursors. */
export const jetstream_relay_name = 'jetstream';
/** The advisory lock a shard's relay holds (advisory locks are per database: one per shard). */
const relay_lock = { key: 7_241_865_325_823_967n, name: 'wallet-event-relay' };
/** Wait before trying a shard's lock again (another process relays it), after a failed round, or to reconnect. */
const relay_retry_ms = 5_000;
/** Events read, published one by one, then acknowledged by one cursor update. */
const relay_page_size = 200;
/** The lag is measured at least this often while the relay is busy (and at every idle poll). */
const lag_every_ms = 1_000;

export interface EventRelayDependencies {
  shardUrls: readonly string[];
  publisher: EventPublisher;
  logger: Logger;
  metrics: EventRelayMetrics;
  /** Wait after a page that was not full (the outbox is drained). */
  pollMs: number;
  /** Wait before trying a shard's lock again; relay_retry_ms unless a test wants it shorter. */
  lockRetryMs?: number;
}

/**
 * The relay of a wallet worker process: connects to NATS (ensuring the stream), then relays
 * every shard. A broker that is down or refuses the stream is logged and tried again; it holds
 * the events back (the lag grows), never the wallet. The answered stop ends it all.
 */
export function runJetStreamRelay(
  natsUrl: string,
  deps: Omit<EventRelayDependencies, 'publisher'>,
): () => Promise<void> {
  const stopping = new AbortController();
  const running = (async () => {
    while (!stopping.signal.aborted) {
      const publisher = await connectEventStream(natsUrl, 'wallet-event-relay').catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'event relay cannot connect to NATS or set up its stream; trying again');
      });
      if (!publisher) {
        await pause(relay_retry_ms, stopping.signal);
        continue;
      }
      const stop = runEventRelay({ ...deps, publisher });
      await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }));
      await stop();
      await publisher.close().catch(() => undefined);
    }
  })();
  return async () => {
    stopping.abort();
    await running;
  };
}

/** Relays every shard until the answered stop is called; stop resolves once every shard's loop ended. */
function runEventRelay(deps: EventRelayDependencies): () => Promise<void> {
  const stopping = new AbortController();
  const loops = deps.shardUrls.map((url, shard) => relayShard(deps, shard, url, stopping.signal));
  return async () => {
    stopping.abort();
    await Promise.all(loops);
  };
}

async function relayShard(deps: EventRelayDependencies, shard: number, url: string, signal: AbortSignal) {
  const labels = { shard: String(shard) };
  while (!signal.aborted) {
    try {
      const led = await withSessionLock(url, relay_lock, (client) => drainWhileLeader(deps, shard, client, signal));
      if (led) deps.logger.info({ shard }, 'event relay stopped relaying the shard');
    } catch (error) {
      deps.metrics.errors.inc(labels);
      deps.logger.warn({ err: error, shard }, 'event relay round failed; it goes on from its stored cursor');
    }
    // Not (or no longer) this process's shard: whoever relays it now reports its lag.
    deps.metrics.lagEvents.remove(labels);
    deps.metrics.lagSeconds.remove(labels);
    await pause(deps.lockRetryMs ?? relay_retry_ms, signal);
  }
}

async function drainWhileLeader(
  { publisher, metrics, logger, pollMs }: EventRelayDependencies,
  shard: number,
  client: pg.Client,
  signal: AbortSignal,
): Promise<void> {
  const labels = { shard: String(shard) };
  let cursor = await relayCursorOf(client, jetstream_relay_name);
  logger.info(
    { shard, cursor: { xid: String(cursor.xid), position: String(cursor.position) } },
    'event relay leads the shard',
  );
  let lagAt = 0;
  while (!signal.aborted) {
    const page = await shardEventsAfter(client, { after: cursor, limit: relay_page_size });
    // One at a time: an event is stored before the next is sent, so a wallet's events reach the
    // stream in sequence order even when a publish fails and is tried again.
    for (const event of page) {
      const { duplicate } = await publisher.publish({
        subject: eventSubject(shard, event.type),
        eventId: event.eventId,
        json: event.json,
      });
      metrics.published.inc({ ...labels, duplicate: String(duplicate) });
    }
    if (page.length > 0) {
      cursor = page.at(-1)!.cursor;
      await storeRelayCursor(client, jetstream_relay_name, cursor);
    }
    if (page.length < relay_page_size || Date.now() - lagAt >= lag_every_ms) {
      const lag = await relayLagOf(client, cursor);
      metrics.lagEvents.set(labels, lag.events);
      metrics.lagSeconds.set(labels, lag.seconds);
      lagAt = Date.now();
    }
    if (page.length < relay_page_size) await pause(pollMs, signal);
  }
}

/** Waits, or less when the relay is stopping. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
