import type pg from 'pg';
import type { InvariantResult } from './invariants';
import type { WebhookArrival } from './webhook-receiver';

/**
 * The wallet events stream's invariants (issue 20 §5): pure functions of what was read from the
 * shards' outboxes, the JetStream stream and the run's webhook endpoint, so
 * test/unit/stream-invariants.test.ts can fool each one. The chaos run (chaos/events.ts) reads
 * readStreamOutbox per shard, the stream's message ids and what its endpoint received, then
 * calls these as invariants 18 to 21.
 */

const examples_max = 5;

/** An event of an outbox: its id, its wallet and its place in the wallet's sequence. */
export interface OutboxEvent {
  eventId: string;
  userId: string;
  sequence: number;
}

/** One shard's outbox as the invariants need it. */
export interface StreamOutbox {
  /** Customer ledger entries (shard:entry_id) without exactly one wallet.credited / wallet.debited event, with the count. */
  entriesWithoutOneEvent: string[];
  /** Every event of the shard. */
  events: OutboxEvent[];
  /** Wallets whose sequences are not exactly 1..n, or whose head row says otherwise. */
  walletsWithGaps: string[];
}

/** Reads one shard's outbox (every event id, so for a run's shards, not a production one). */
export async function readStreamOutbox(pool: pg.Pool, shard: number): Promise<StreamOutbox> {
  const entries = await pool.query<{ entry: string }>(
    `select $1::int || ':' || n.entry_id || ' (' || count(e.event_id) || ' events)' as entry
       from entries n
       left join wallet_events e
         on e.type in ('wallet.credited', 'wallet.debited') and e.data->>'entry_id' = n.entry_id::text
        and e.user_id = split_part(n.account_id, ':', 2)
      where n.account_id like 'customer:%'
      group by n.entry_id having count(e.event_id) <> 1`,
    [shard],
  );
  const events = await pool.query<{ event_id: string; user_id: string; sequence: string }>(
    'select event_id, user_id, sequence::text as sequence from wallet_events',
  );
  const gaps = await pool.query<{ user_id: string }>(
    `select coalesce(e.user_id, h.user_id) as user_id
       from (select user_id, count(*) as events, min(sequence) as first, max(sequence) as last
               from wallet_events group by user_id) e
       full join wallet_event_heads h on h.user_id = e.user_id
      where e.user_id is null or h.user_id is null or e.first <> 1 or e.last <> e.events or h.last_sequence <> e.last`,
  );
  return {
    entriesWithoutOneEvent: entries.rows.map((row) => row.entry),
    events: events.rows.map((row) => ({ eventId: row.event_id, userId: row.user_id, sequence: Number(row.sequence) })),
    walletsWithGaps: gaps.rows.map((row) => `${shard}:${row.user_id}`),
  };
}

/** Every committed customer ledger entry has exactly one event; every event reaches the stream; no wallet has a gap. */
export function checkStreamInvariants(
  outboxes: readonly StreamOutbox[],
  streamMessageIds: readonly string[],
  firstId: number,
): InvariantResult[] {
  const entries = outboxes.flatMap((outbox) => outbox.entriesWithoutOneEvent);
  const eventIds = outboxes.flatMap((outbox) => outbox.events.map((event) => event.eventId));
  const onStream = new Set(streamMessageIds);
  const missing = eventIds.filter((id) => !onStream.has(id));
  const twice = streamMessageIds.length - onStream.size;
  const gaps = outboxes.flatMap((outbox) => outbox.walletsWithGaps);
  return [
    {
      id: firstId,
      name: 'every committed ledger change has exactly one event',
      held: entries.length === 0,
      figures: `${entries.length} customer entries without exactly one event`,
      examples: entries.slice(0, examples_max),
    },
    {
      id: firstId + 1,
      name: 'every event reaches the stream (duplicates de-duplicated)',
      held: missing.length === 0 && twice === 0,
      figures: `${eventIds.length} events, ${onStream.size} on the stream, ${missing.length} missing, ${twice} stored twice`,
      examples: missing.slice(0, examples_max),
    },
    {
      id: firstId + 2,
      name: 'per-wallet event sequences have no gaps',
      held: gaps.length === 0,
      figures: `${gaps.length} wallets with a gap or a head out of step`,
      examples: gaps.slice(0, examples_max),
    },
  ];
}

/** The run's endpoint as `GET /v1/webhooks/endpoints/{id}` answered it at the end. */
export interface EndpointAtEnd {
  status: string;
  disabled_reason: string | null;
}

/**
 * The webhook endpoint (subscribed to every event type of every wallet) received every event, in
 * order per wallet, or is flagged disabled. Only arrivals it acknowledged (answered 2xx) count: an
 * answered 500 is a failed attempt the wallet retries. Per wallet, in arrival order:
 * - an acknowledged arrival whose sequence is at most the highest one acknowledged before it is a
 *   repeat, allowed anywhere (delivery is at least once; a consumer drops it by its event id);
 * - any other is new, and must be exactly one past the highest acknowledged before it (1 for the
 *   wallet's first): a new sequence after a later one was acknowledged, or one that skips a
 *   sequence, is out of order (the skipped one can then only come late, or never).
 * It holds when no arrival is out of order, no delivery failed its signature check, and every
 * outbox event was acknowledged at least once, unless the endpoint is disabled (GET shows it,
 * with its reason): a disabled endpoint may miss events, never receive them out of order.
 */
export function webhookDelivery(
  outboxes: readonly StreamOutbox[],
  receiver: { arrivals: readonly WebhookArrival[]; refused: readonly string[] },
  endpoint: EndpointAtEnd,
  id: number,
): InvariantResult {
  const highest = new Map<string, number>();
  const acknowledged = new Set<string>();
  const outOfOrder: { arrival: WebhookArrival; high: number }[] = [];
  let failed = 0;
  let repeats = 0;
  let lateRepeats = 0;
  for (const arrival of receiver.arrivals) {
    if (!arrival.acknowledged) {
      failed++;
      continue;
    }
    acknowledged.add(arrival.event_id);
    const high = highest.get(arrival.user_id) ?? 0;
    if (arrival.sequence <= high) {
      repeats++;
      if (arrival.sequence < high) lateRepeats++;
      continue;
    }
    if (arrival.sequence !== high + 1) outOfOrder.push({ arrival, high });
    highest.set(arrival.user_id, arrival.sequence);
  }
  const events = outboxes.flatMap((outbox) => outbox.events);
  const missing = events.filter((event) => !acknowledged.has(event.eventId));
  // What a new sequence skipped came later, or never: then the endpoint lost it too.
  const outOfOrderNote = ({ arrival, high }: (typeof outOfOrder)[number]) => {
    const fates = [];
    for (let next = high + 1; next < arrival.sequence; next++)
      fates.push(`${next} ${acknowledged.has(`ev_${arrival.user_id}_${next}`) ? 'acknowledged later' : 'never'}`);
    return `${arrival.user_id}: sequence ${arrival.sequence} acknowledged as new after ${high} (${fates.join(', ')})`;
  };
  const disabled = endpoint.status === 'disabled';
  return {
    id,
    name: 'the webhook endpoint received every event in order per wallet (repeats allowed), or is flagged disabled',
    held: outOfOrder.length === 0 && receiver.refused.length === 0 && (missing.length === 0 || disabled),
    figures: `${events.length} events, ${events.length - missing.length} acknowledged, ${missing.length} never; ${receiver.arrivals.length} arrivals: ${failed} answered 500 (retried), ${repeats} repeats (${lateRepeats} after a later sequence), ${outOfOrder.length} out of order, ${receiver.refused.length} signatures refused; endpoint ${endpoint.status}${disabled ? ` (${endpoint.disabled_reason ?? 'no reason'})` : ''}`,
    examples: [
      ...outOfOrder.slice(0, examples_max).map(outOfOrderNote),
      ...receiver.refused.map((note) => `refused: ${note}`),
      ...missing.map((event) => `${event.eventId}: never acknowledged${disabled ? ' (endpoint disabled)' : ''}`),
    ].slice(0, examples_max),
  };
}
