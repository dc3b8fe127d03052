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
 * One shard's events after a drain cursor, for a relay: only events whose transaction ended
 * before every transaction still open (pg_snapshot_xmin), so none can commit behind the cursor
 * later. A long open transaction anywhere on the server holds the drain back (its lag). The next
 * call passes the last event's cursor. Each wallet's events come in sequence order
 * (inWalletOrder), which the (xid, position) order alone does not give.
 */
export async function shardEventsAfter(
  client: pg.Pool | pg.ClientBase,
  query: { after: DrainCursor; limit: number },
): Promise<WalletEvent[]> {
  const found = await client.query<EventRow & { previous_xid: string | null; previous_position: string | null }>({
    name: 'shard_events_after',
    text: `select ${event_columns}, p.xid::text as previous_xid, p.position::text as previous_position
             from (select * from wallet_events w
                    where (w.xid, w.position) > ($1::text::xid8, $2::bigint)
                      and w.xid < pg_snapshot_xmin(pg_current_snapshot())
                    order by w.xid, w.position limit $3::int) e
             left join wallet_events p on p.user_id = e.user_id and p.sequence = e.sequence - 1
            order by e.xid, e.position`,
    values: [query.after.xid.toString(), query.after.position.toString(), pageSize(query.limit)],
  });
  const page = found.rows.map((row) => ({
    ...eventOf(row),
    previous:
      row.previous_xid === null ? null : { xid: BigInt(row.previous_xid), position: BigInt(row.previous_position!) },
  }));
  return inWalletOrder(page, query.after).map(({ previous: _previous, ...event }) => event);
}

/** An event read by a drain, with where its wallet's previous event stands (null for none). */
type DrainedEvent = Pick<WalletEvent, 'userId' | 'sequence' | 'cursor'> & { previous: DrainCursor | null };

/**
 * What a drain may hand out of a page read in (xid, position) order, so that each wallet's
 * events go out in sequence order. That order is not the xid order: a transaction takes its xid
 * at its first write, and a wallet's next sequence number under the head row's lock later, so
 * of two transactions of one wallet the one with the smaller xid can hold the larger number (and
 * even commit while the other's xid is still above pg_snapshot_xmin). A delivery that had sent
 * n + 1 would then drop n as already sent.
 *
 * So: the page is cut before the first event whose previous event in its wallet is neither
 * behind the cursor (handed out already) nor in what is left of the page, until every event's
 * previous one is; the next call reads the cut events again once their previous ones are
 * visible. Then each wallet's events are put in sequence order within the slots they hold, and
 * each slot keeps its own cursor, so the last event's cursor is still the page's end.
 */
export function inWalletOrder<Event extends DrainedEvent>(page: readonly Event[], after: DrainCursor): Event[] {
  let kept = [...page];
  for (;;) {
    const held = new Set(kept.map((event) => `${event.userId}/${event.sequence}`));
    const first = kept.findIndex(
      (event) =>
        event.sequence > 1n &&
        !(event.previous !== null && compareCursors(event.previous, after) <= 0) &&
        !held.has(`${event.userId}/${event.sequence - 1n}`),
    );
    if (first === -1) break;
    kept = kept.slice(0, first);
  }
  const byWallet = new Map<string, Event[]>();
  for (const event of kept) byWallet.set(event.userId, [...(byWallet.get(event.userId) ?? []), event]);
  for (const events of byWallet.values()) events.sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
  return kept.map((slot) => ({ ...byWallet.get(slot.userId)!.shift()!, cursor: slot.cursor }));
}

function compareCursors(a: DrainCursor, b: DrainCursor): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.position === b.position ? 0 : a.position < b.position ? -1 : 1;
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
