import type pg from 'pg';
import { drain_start, type DrainCursor } from './wallet-events';

/**
 * A relay's place in one shard's wallet events outbox (table event_relay_cursors, migration
 * 1763769600170). The relay stores it only after the broker acknowledged every event up to it.
 */

/** Where a relay stands on this shard; drain_start before its first stored cursor. */
export async function relayCursorOf(client: pg.ClientBase, relay: string): Promise<DrainCursor> {
  const found = await client.query<{ xid: string; position: string }>(
    'select xid::text as xid, position::text as position from event_relay_cursors where relay = $1::text',
    [relay],
  );
  const row = found.rows[0];
  return row ? { xid: BigInt(row.xid), position: BigInt(row.position) } : drain_start;
}

/**
 * Moves a relay's cursor forward. Never backward: a relay that lost its leadership without
 * knowing it (a stale process) cannot undo what the current one stored.
 */
export async function storeRelayCursor(client: pg.ClientBase, relay: string, cursor: DrainCursor): Promise<void> {
  await client.query(
    `insert into event_relay_cursors (relay, xid, position) values ($1::text, $2::text::xid8, $3::bigint)
     on conflict (relay) do update set xid = excluded.xid, position = excluded.position, updated_at = now()
      where (event_relay_cursors.xid, event_relay_cursors.position) < (excluded.xid, excluded.position)`,
    [relay, cursor.xid.toString(), cursor.position.toString()],
  );
}

/** A relay's lag on one shard: committed events after its cursor, and the age of the oldest. */
export interface RelayLag {
  /** Counted up to relay_lag_count_max, so a scrape of a far-behind shard stays cheap. */
  events: number;
  seconds: number;
}

const relay_lag_count_max = 100_000;

/**
 * The committed events the relay has not published yet, including those a long-open
 * transaction holds back (shardEventsAfter waits for them), with the age of the oldest.
 */
export async function relayLagOf(client: pg.ClientBase, cursor: DrainCursor): Promise<RelayLag> {
  const found = await client.query<{ events: string; seconds: number }>(
    `select count(*)::text as events,
            coalesce(extract(epoch from now() - min(occurred_at)), 0)::float8 as seconds
       from (select e.occurred_at from wallet_events e
              where (e.xid, e.position) > ($1::text::xid8, $2::bigint)
              order by e.xid, e.position limit $3::int) behind`,
    [cursor.xid.toString(), cursor.position.toString(), relay_lag_count_max],
  );
  const row = found.rows[0]!;
  return { events: Number(row.events), seconds: Math.max(0, row.seconds) };
}
