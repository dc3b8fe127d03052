import type pg from 'pg';
import { wallet_events_page_max, type WalletEventType } from '../domain/wallet-events';

/**
 * Reads of the wallet events outbox (migration 1763769600110, docs/events.md). The rows are
 * written by the ledger's own SQL, in the transaction of the change they describe; this module
 * only reads them.
 */

/** One event as stored, with its JSON envelope (`json`) built by PostgreSQL, so amounts stay exact. */
export interface WalletEvent {
  eventId: string;
  userId: string;
  /** Gap-free per wallet, from 1. */
  sequence: bigint;
  type: WalletEventType;
  /** Where a shard drain stands after this event (see DrainCursor). */
  cursor: DrainCursor;
  /** The envelope as JSON text: {id, type, schema_version, user_id, sequence, occurred_at, data}. */
  json: string;
}

/**
 * A drain's place in one shard's outbox: the writing transaction's id and the row's position.
 * Events are drained in (xid, position) order and only from transactions older than every open
 * one, so an event committed later can never land behind a cursor already handed out.
 */
export interface DrainCursor {
  xid: bigint;
  position: bigint;
}

/** The start of every shard's outbox. */
export const drain_start: DrainCursor = { xid: 0n, position: 0n };

interface EventRow {
  event_id: string;
  user_id: string;
  sequence: string;
  type: WalletEventType;
  xid: string;
  position: string;
  json: string;
}

// Aliased columns are text, so ORDER BY names the table's own (e.sequence, not sequence).
const event_columns = `e.event_id, e.user_id, e.sequence::text as sequence, e.type, e.xid::text as xid, e.position::text as position,
  json_build_object('id', e.event_id, 'type', e.type, 'schema_version', e.schema_version, 'user_id', e.user_id,
                    'sequence', e.sequence, 'occurred_at', e.occurred_at, 'data', e.data)::text as json`;

function eventOf(row: EventRow): WalletEvent {
  return {
    eventId: row.event_id,
    userId: row.user_id,
    sequence: BigInt(row.sequence),
    type: row.type,
    cursor: { xid: BigInt(row.xid), position: BigInt(row.position) },
    json: row.json,
  };
}

function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a page holds at least one event, not ${limit}`);
  return Math.min(limit, wallet_events_page_max);
}

/**
 * A wallet's events after sequence `afterSequence` (0: from the first), in sequence order. A
 * wallet's events commit in sequence order (its head row's lock), so what this answers never
 * skips one that commits later.
 */
export async function walletEventsAfter(
  client: pg.Pool | pg.PoolClient,
  query: { userId: string; afterSequence: bigint; limit: number },
): Promise<WalletEvent[]> {
  const found = await client.query<EventRow>({
    name: 'wallet_events_after',
    text: `select ${event_columns} from wallet_events e
            where e.user_id = $1::text and e.sequence > $2::bigint
            order by e.sequence limit $3::int`,
    values: [query.userId, query.afterSequence.toString(), pageSize(query.limit)],
  });
  return found.rows.map(eventOf);
}

/**
 * A drain's page after the cursor ($1 xid, $2 position), $3 events at most: only events of
 * transactions older than every open one. One text for shardEventsAfter and shardDrainSkip, so
 * a drain that skips and one that reads stop at the same place.
 */
const drain_page = `from wallet_events w
              where (w.xid, w.position) > ($1::text::xid8, $2::bigint)
                and w.xid < pg_snapshot_xmin(pg_current_snapshot())
              order by w.xid, w.position limit $3::int`;

/**
 * One shard's events after a drain cursor, for a relay: a page of events whose transaction ended
 * before every transaction still open (pg_snapshot_xmin), so none can commit behind the cursor
 * later. A long open transaction anywhere on the server holds the drain back (its lag). The next
 * call passes the last event's cursor.
 *
 * Each wallet's events come in sequence order, which the (xid, position) order alone does not
 * give: a transaction takes its xid at its first write and the wallet's number later, under the
 * head row's lock, so of two transactions of one wallet the one with the smaller xid can hold the
 * larger number. So for each wallet in the page the read also takes its events still ahead of the
 * cursor below the page's highest number (committed, since that one is: the head row's lock
 * orders them), and inWalletOrder hands them out first. Those are handed out again when the cursor
 * reaches them: consumers already take events at least once.
 */
export async function shardEventsAfter(
  client: pg.Pool | pg.ClientBase,
  query: { after: DrainCursor; limit: number },
): Promise<WalletEvent[]> {
  const found = await client.query<EventRow & { in_page: boolean }>({
    name: 'shard_events_after',
    text: `with recursive page as (
             select w.user_id, w.sequence ${drain_page}),
           spans as (select user_id, min(sequence) as first, max(sequence) as last from page group by user_id),
           -- Each wallet's events below its first in the page that are still ahead of the cursor.
           earlier as (
             select s.user_id, s.first as sequence from spans s
             union all
             select r.user_id, r.sequence - 1 from earlier r
               join wallet_events w on w.user_id = r.user_id and w.sequence = r.sequence - 1
              where (w.xid, w.position) > ($1::text::xid8, $2::bigint))
           select ${event_columns},
                  exists (select 1 from page p where p.user_id = e.user_id and p.sequence = e.sequence) as in_page
             from wallet_events e
             join spans s on s.user_id = e.user_id
             join (select user_id, min(sequence) as first from earlier group by user_id) f on f.user_id = e.user_id
            where e.sequence between f.first and s.last
              and (e.xid, e.position) > ($1::text::xid8, $2::bigint)
            order by e.xid, e.position`,
    values: [query.after.xid.toString(), query.after.position.toString(), pageSize(query.limit)],
  });
  return inWalletOrder(found.rows.map((row) => ({ ...eventOf(row), inPage: row.in_page }))).map(
    ({ inPage: _inPage, ...event }) => event,
  );
}

/**
 * Where a drain stands after the next page, and how many events the page holds: shardEventsAfter's
 * page, without the events themselves (no envelopes built, no wallet's earlier events fetched),
 * for a drain with no one to hand them to. Undefined when nothing is ready.
 */
export async function shardDrainSkip(
  client: pg.Pool | pg.ClientBase,
  query: { after: DrainCursor; limit: number },
): Promise<{ events: number; cursor: DrainCursor } | undefined> {
  const found = await client.query<{ xid: string; position: string; events: number }>({
    name: 'shard_drain_skip',
    text: `with page as (
             select w.xid, w.position ${drain_page})
           select xid::text as xid, position::text as position, (count(*) over ())::int as events
             from page order by page.xid desc, page.position desc limit 1`,
    values: [query.after.xid.toString(), query.after.position.toString(), pageSize(query.limit)],
  });
  const last = found.rows[0];
  return last && { events: last.events, cursor: { xid: BigInt(last.xid), position: BigInt(last.position) } };
}

/** An event a drain read: one of its page (in drain order), or one of its wallet's earlier ones still ahead of the cursor. */
type DrainedEvent = Pick<WalletEvent, 'userId' | 'sequence' | 'cursor'> & { inPage: boolean };

/**
 * The order a drain hands a read out in: page slot by page slot, each slot's wallet's events up
 * to the slot's number that are not out yet, in sequence order, each with the slot's cursor. So
 * every wallet's events go out in sequence order, a cursor saved after any event is one behind
 * which every page event before it went out, and the last one is the page's end (even when the
 * last slots' events went out earlier, with a slot of a higher number of their wallet: the next
 * read starts past them, not over them again).
 */
export function inWalletOrder<Event extends DrainedEvent>(read: readonly Event[]): Event[] {
  const waiting = new Map<string, Event[]>();
  for (const event of read) {
    const events = waiting.get(event.userId);
    if (events) events.push(event);
    else waiting.set(event.userId, [event]);
  }
  for (const events of waiting.values()) events.sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
  const out: Event[] = [];
  const slots = read.filter((event) => event.inPage);
  for (const slot of slots) {
    const events = waiting.get(slot.userId)!;
    while (events.length > 0 && events[0]!.sequence <= slot.sequence)
      out.push({ ...events.shift()!, cursor: slot.cursor });
  }
  // Every page event is out once the last slot is done, whether or not it added one.
  const end = slots.at(-1);
  if (end && out.length > 0) out[out.length - 1] = { ...out.at(-1)!, cursor: end.cursor };
  return out;
}

/** The last sequence number of each wallet asked about that has had an event (one index probe each). */
export async function walletEventHeads(
  client: pg.Pool | pg.PoolClient,
  userIds: readonly string[],
): Promise<Map<string, bigint>> {
  const found = await client.query<{ user_id: string; last_sequence: string }>({
    name: 'wallet_event_heads',
    text: 'select user_id, last_sequence::text from wallet_event_heads where user_id = any($1::text[])',
    values: [userIds],
  });
  return new Map(found.rows.map((row) => [row.user_id, BigInt(row.last_sequence)]));
}
