import type pg from 'pg';

/**
 * The per-shard reads of reconciliation, each one set-based statement run inside the caller's
 * snapshot (ledger/reconciliation.ts). Lists are capped at `limit` rows; `total` counts them all.
 */

export interface Capped<T> {
  rows: T[];
  total: number;
}

export interface UnbalancedPostingRow {
  transferId: string;
  leg: string;
  currency: string;
  sumMinor: bigint;
}

/** Postings whose entries do not sum to zero in some currency (the commit trigger should make this impossible). */
export async function unbalancedPostings(client: pg.ClientBase, limit: number): Promise<Capped<UnbalancedPostingRow>> {
  const found = await client.query<{ transfer_id: string; leg: string; currency: string; sum: string; total: number }>(
    `select transfer_id, leg, currency, sum(amount)::text as sum, (count(*) over ())::int as total
       from entries
      group by transfer_id, leg, currency
     having sum(amount) <> 0
      order by transfer_id, leg, currency
      limit $1::int`,
    [limit],
  );
  return {
    rows: found.rows.map((row) => ({
      transferId: row.transfer_id,
      leg: row.leg,
      currency: row.currency,
      sumMinor: BigInt(row.sum),
    })),
    total: found.rows[0]?.total ?? 0,
  };
}

/** What the chain check finds wrong with an entry (see ledger/verify.ts for the whole walk). */
export type ChainRangeProblem = 'unchained' | 'seq_gap' | 'hash_mismatch';

export interface ChainBreakRow {
  entryId: bigint;
  accountId: string;
  currency: string;
  problem: ChainRangeProblem;
}

export interface ChainRange {
  /** Entries read: at most the limit given. */
  checked: number;
  /** The last entry read; null when there was none after the cursor. */
  lastEntryId: bigint | null;
  /**
   * The last entry read that was posted at least settle_ms before the snapshot, null if none.
   * Entry ids are taken before commit, so a posting in flight may land later below ids already
   * visible; one that was written settle_ms ago has committed (a leg is one statement under
   * statement_timeout). A next run that starts after this id misses nothing.
   */
  settledThrough: bigint | null;
  breaks: Capped<ChainBreakRow>;
}

/**
 * The hash chain checked for the entries after one entry id (and up to another, if given), in id order, each against its
 * account's previous entry in the chain (an index probe of entries_account_seq): the entry has a
 * hash, follows that entry's account_seq by one, and its hash is entry_chain_hash of that entry's
 * hash and its own content. Bounded by `limit` entries.
 */
export async function chainBreaksAfter(
  client: pg.ClientBase,
  range: { afterEntryId: bigint; throughEntryId?: bigint; limit: number; settleMs: number; listedMax: number },
): Promise<ChainRange> {
  const found = await client.query<{
    checked: number;
    last_entry_id: string | null;
    settled_through: string | null;
    broken: number;
    listed: { entry_id: string; account_id: string; currency: string; problem: ChainRangeProblem }[];
  }>(
    `with checked as (
       select e.entry_id, e.account_id, e.currency, coalesce(e.posted_at, e.created_at) as posted_at,
              case when e.hash is null then 'unchained'
                   when e.account_seq <> coalesce(p.account_seq, 0) + 1 then 'seq_gap'
                   when e.hash <> entry_chain_hash(p_previous => p.hash, e => e) then 'hash_mismatch' end as problem
         from entries e
         left join lateral (select q.account_seq, q.hash
                              from entries q
                             where q.account_id = e.account_id and q.account_seq < e.account_seq
                             order by q.account_seq desc
                             limit 1) p on true
        where e.entry_id > $1::bigint and ($5::bigint is null or e.entry_id <= $5::bigint)
        order by e.entry_id
        limit $2::int
     )
     select (select count(*) from checked)::int as checked,
            (select max(entry_id) from checked)::text as last_entry_id,
            (select max(entry_id) from checked where posted_at <= now() - $3::int * interval '1 millisecond')::text as settled_through,
            (select count(*) from checked where problem is not null)::int as broken,
            coalesce((select json_agg(json_build_object('entry_id', b.entry_id::text, 'account_id', b.account_id, 'currency', b.currency, 'problem', b.problem) order by b.entry_id)
                        from (select entry_id, account_id, currency, problem from checked where problem is not null order by entry_id limit $4::int) b), '[]') as listed`,
    [
      range.afterEntryId.toString(),
      range.limit,
      range.settleMs,
      range.listedMax,
      range.throughEntryId?.toString() ?? null,
    ],
  );
  const row = found.rows[0]!;
  return {
    checked: row.checked,
    lastEntryId: row.last_entry_id === null ? null : BigInt(row.last_entry_id),
    settledThrough: row.settled_through === null ? null : BigInt(row.settled_through),
    breaks: {
      total: row.broken,
      rows: row.listed.map((line) => ({
        entryId: BigInt(line.entry_id),
        accountId: line.account_id,
        currency: line.currency,
        problem: line.problem,
      })),
    },
  };
}
