import type pg from 'pg';
import type { InvariantResult } from './invariants';

/**
 * The wallet events stream's invariants (issue 20 §5): pure functions of what was read from the
 * shards' outboxes and the JetStream stream, so test/unit/stream-invariants.test.ts can fool
 * each one. Kept apart from the chaos run's own list (chaos/invariants.ts); a run that relays to
 * JetStream reads readStreamOutbox per shard and the stream's message ids, then calls these.
 */

const examples_max = 5;

/** One shard's outbox as the invariants need it. */
export interface StreamOutbox {
  /** Customer ledger entries (shard:entry_id) without exactly one wallet.credited / wallet.debited event, with the count. */
  entriesWithoutOneEvent: string[];
  /** Every event id of the shard. */
  eventIds: string[];
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
  const ids = await pool.query<{ event_id: string }>('select event_id from wallet_events');
  const gaps = await pool.query<{ user_id: string }>(
    `select coalesce(e.user_id, h.user_id) as user_id
       from (select user_id, count(*) as events, min(sequence) as first, max(sequence) as last
               from wallet_events group by user_id) e
       full join wallet_event_heads h on h.user_id = e.user_id
      where e.user_id is null or h.user_id is null or e.first <> 1 or e.last <> e.events or h.last_sequence <> e.last`,
  );
  return {
    entriesWithoutOneEvent: entries.rows.map((row) => row.entry),
    eventIds: ids.rows.map((row) => row.event_id),
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
  const eventIds = outboxes.flatMap((outbox) => outbox.eventIds);
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
