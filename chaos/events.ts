import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { wallet_event_types } from '../domain/wallet-events';
import { relayCursorOf, relayLagOf } from '../ledger/event-relay-cursors';
import { jetstream_relay_name } from '../workers/event-relay';
import { event_stream_name } from '../workers/event-stream';
import { sleep, type ChaosClient } from './client';
import type { InvariantResult } from './invariants';
import type { ChaosReport } from './report';
import { withCheckConnection } from './ledger';
import {
  checkStreamInvariants,
  readStreamOutbox,
  webhookDelivery,
  type EndpointAtEnd,
  type StreamOutbox,
} from './stream-invariants';
import type { ChaosWebhookReceiver } from './webhook-receiver';
import { ops_operator } from './workload';

/**
 * The events side of the run (issue 20 §5): one webhook endpoint for every event of every wallet,
 * registered before the first event, and at the end the outboxes, the JetStream stream and what
 * the endpoint received, read once the relay and the endpoint caught up: invariants 18 to 21.
 */

/** The first of the events invariants (13 to 17 are the rails'). */
const first_events_invariant = 18;
/** The end waits this long at most for the relay's lag to be zero and the endpoint to have every event. */
const catch_up_within_ms = 120_000;
const catch_up_poll_ms = 500;
const ops = { sub: ops_operator, role: 'ops' as const };

/**
 * Registers the run's endpoint (every event type, every wallet) at the receiver's address and
 * hands the receiver its secret. The dispatcher hands an endpoint only the events it drains after
 * the endpoint exists, so this runs before the first wallet is created.
 */
export async function registerWebhookEndpoint(client: ChaosClient, receiver: ChaosWebhookReceiver): Promise<string> {
  const created = await client.retrying('POST', '/v1/webhooks/endpoints', ops, {
    url: receiver.url,
    event_types: [...wallet_event_types],
    all: true,
  });
  if (created.status !== 201)
    throw new Error(`registering the webhook endpoint answered ${created.status} ${JSON.stringify(created.body)}`);
  receiver.useSecret(created.body.secret);
  return created.body.endpoint_id;
}

/** What the events invariants are judged on. */
export interface EventsRead {
  outboxes: StreamOutbox[];
  streamMessageIds: string[];
  endpoint: EndpointAtEnd;
  /** How long the wait for the relay and the endpoint took, and what was still behind if it timed out. */
  waitedMs: number;
  relayBehind: string[];
  endpointBehind: string[];
}

/**
 * Reads the outboxes, then waits (at most catch_up_within_ms) until every shard's relay lag is
 * zero and the endpoint acknowledged every event read (or is disabled), then reads the stream.
 * Events committed after the outboxes were read may be on the stream too; the checks allow that.
 */
export async function readEvents(
  shardUrls: readonly string[],
  natsUrl: string,
  webhook: { client: ChaosClient; receiver: ChaosWebhookReceiver; endpointId: string },
): Promise<EventsRead> {
  const outboxes = await Promise.all(shardUrls.map((url, shard) => readOutbox(url, shard)));
  const eventIds = outboxes.flatMap((outbox) => outbox.events.map((event) => event.eventId));
  const startedMs = Date.now();
  for (;;) {
    const endpoint = await endpointAtEnd(webhook.client, webhook.endpointId);
    const acknowledged = new Set(
      webhook.receiver.arrivals.filter((arrival) => arrival.acknowledged).map((arrival) => arrival.event_id),
    );
    const unreceived = eventIds.filter((id) => !acknowledged.has(id)).length;
    const relayBehind = await relayLags(shardUrls);
    const endpointBehind =
      unreceived > 0 && endpoint.status !== 'disabled' ? [`the endpoint lacks ${unreceived} events`] : [];
    const waitedMs = Date.now() - startedMs;
    if ((relayBehind.length === 0 && endpointBehind.length === 0) || waitedMs > catch_up_within_ms) {
      const streamMessageIds = await streamMessageIdsOf(natsUrl);
      return { outboxes, streamMessageIds, endpoint, waitedMs, relayBehind, endpointBehind };
    }
    await sleep(catch_up_poll_ms);
  }
}

/**
 * Invariants 18 to 21. A part still behind when the wait ended says so first among its
 * invariant's examples (the invariant itself fails only on an event read that is missing: the
 * lag may be of events committed after the outboxes were read).
 */
export function eventsInvariants(read: EventsRead, receiver: ChaosWebhookReceiver): InvariantResult[] {
  const [entries, stream, gaps] = checkStreamInvariants(read.outboxes, read.streamMessageIds, first_events_invariant);
  const webhooks = webhookDelivery(read.outboxes, receiver, read.endpoint, first_events_invariant + 3);
  const waited = (result: InvariantResult, behind: string[]): InvariantResult =>
    behind.length === 0
      ? { ...result, figures: `${result.figures}; caught up after ${(read.waitedMs / 1000).toFixed(1)} s` }
      : {
          ...result,
          figures: `${result.figures}; NOT caught up after ${catch_up_within_ms / 1000} s`,
          examples: [`still behind after ${catch_up_within_ms / 1000} s: ${behind.join('; ')}`, ...result.examples],
        };
  return [entries!, waited(stream!, read.relayBehind), gaps!, waited(webhooks, read.endpointBehind)];
}

/** The report's figures of the events. */
export function eventsReport(read: EventsRead, receiver: ChaosWebhookReceiver): ChaosReport['events'] {
  return {
    outbox_events: read.outboxes.reduce((sum, outbox) => sum + outbox.events.length, 0),
    stream_messages: read.streamMessageIds.length,
    webhook_arrivals: receiver.arrivals.length,
    webhook_answered_500: receiver.arrivals.filter((arrival) => !arrival.acknowledged).length,
    webhook_longest_pause_s: longestPauseMs(receiver.arrivals) / 1000,
    endpoint_status: read.endpoint.status,
    waited_s: Math.round(read.waitedMs / 100) / 10,
  };
}

/** The longest time between two deliveries in a row (a stalled delivery workflow shows here). */
function longestPauseMs(arrivals: readonly { at_ms: number }[]): number {
  let longest = 0;
  for (let index = 1; index < arrivals.length; index++)
    longest = Math.max(longest, arrivals[index]!.at_ms - arrivals[index - 1]!.at_ms);
  return longest;
}

async function readOutbox(url: string, shard: number): Promise<StreamOutbox> {
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'wallet-chaos-check' });
  try {
    return await readStreamOutbox(pool, shard);
  } finally {
    await pool.end();
  }
}

/** Each shard whose relay has events it has not published yet (the relay's lag, as its metric reads it). */
async function relayLags(shardUrls: readonly string[]): Promise<string[]> {
  const lags = await Promise.all(
    shardUrls.map((url) =>
      withCheckConnection(url, async (client) => relayLagOf(client, await relayCursorOf(client, jetstream_relay_name))),
    ),
  );
  return lags.flatMap((lag, shard) =>
    lag.events > 0 ? [`shard ${shard}'s relay is ${lag.events} events behind`] : [],
  );
}

async function endpointAtEnd(client: ChaosClient, endpointId: string): Promise<EndpointAtEnd> {
  const answer = await client.retrying('GET', `/v1/webhooks/endpoints/${endpointId}`, ops);
  if (answer.status !== 200)
    throw new Error(`reading the webhook endpoint answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return { status: answer.body.status, disabled_reason: answer.body.disabled_reason };
}

/** The message id (Nats-Msg-Id, the event id) of every message of the stream, read by an ordered consumer from the first. */
async function streamMessageIdsOf(natsUrl: string): Promise<string[]> {
  const connection = await connect({ servers: natsUrl, name: 'wallet-chaos-check' });
  try {
    const total = (await (await jetstreamManager(connection)).streams.info(event_stream_name)).state.messages;
    const ids: string[] = [];
    if (total === 0) return ids;
    const messages = await (await jetstream(connection).consumers.get(event_stream_name)).consume();
    for await (const message of messages) {
      ids.push(message.headers?.get('Nats-Msg-Id') ?? '');
      if (ids.length === total) break;
    }
    await messages.close();
    return ids;
  } finally {
    await connection.close();
  }
}
