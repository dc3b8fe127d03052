import {
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';

/**
 * The wallet's events on NATS JetStream (issue 20 §4, docs/events.md, "The stream"): one stream,
 * a subject per shard and event type, the event id as the message id.
 */

/** The stream every wallet event is published to. */
export const event_stream_name = 'WALLET_EVENTS';
const event_subject_prefix = 'wallet.events';
/** A republish of an event within this window is dropped by the broker (PubAck.duplicate). */
const duplicate_window_ms = 60 * 60 * 1000;
/** Events are kept this long, then dropped oldest first; a consumer further behind rebuilds from the outbox. */
const stream_max_age_ms = 7 * 24 * 60 * 60 * 1000;
/** A publish not acknowledged in this long fails; the relay tries the event again (the same message id). */
const publish_timeout_ms = 5_000;

/** `wallet.events.<shard>.<type>`, e.g. wallet.events.2.wallet.debited (the type keeps its dot). */
export function eventSubject(shard: number, type: string): string {
  return `${event_subject_prefix}.${shard}.${type}`;
}

/** The stream's settings, applied by ensureEventStream on every start. */
function streamConfig(): Partial<StreamConfig> & { name: string } {
  return {
    name: event_stream_name,
    subjects: [`${event_subject_prefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(stream_max_age_ms),
    duplicate_window: nanos(duplicate_window_ms),
    num_replicas: 1,
  };
}

/** Creates the stream, or brings an existing one to streamConfig (idempotent: every process does it on start). */
async function ensureEventStream(connection: NatsConnection): Promise<void> {
  const manager = await jetstreamManager(connection);
  const { name, ...settings } = streamConfig();
  try {
    await manager.streams.update(name, settings);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
    await manager.streams.add({ name, ...settings });
  }
}

/** What the relay publishes through: one event at a time, answered once the stream stored it. */
export interface EventPublisher {
  /** Resolves when the stream acknowledged the event (stored, or dropped as a duplicate of one it has). */
  publish(event: { subject: string; eventId: string; json: string }): Promise<{ duplicate: boolean }>;
  close(): Promise<void>;
}

/** Connects to NATS_URL, ensures the stream and answers a publisher on it. */
export async function connectEventStream(natsUrl: string, name: string): Promise<EventPublisher> {
  // Reconnects forever: a broker that is down holds the relay back (its lag grows), never the wallet.
  const connection = await connect({ servers: natsUrl, name, maxReconnectAttempts: -1 });
  try {
    await ensureEventStream(connection);
  } catch (error) {
    await connection.close();
    throw error;
  }
  const stream: JetStreamClient = jetstream(connection);
  const encoder = new TextEncoder();
  return {
    async publish({ subject, eventId, json }) {
      const ack = await stream.publish(subject, encoder.encode(json), {
        msgID: eventId,
        timeout: publish_timeout_ms,
        expect: { streamName: event_stream_name },
      });
      return { duplicate: ack.duplicate };
    },
    close: () => connection.drain(),
  };
}
