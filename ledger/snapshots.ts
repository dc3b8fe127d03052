import type pg from 'pg';

/**
 * An account's balance from its latest snapshot plus the entries after it
 * (migrations/1763769600009_ledger-chain.sql): the entries trigger takes a snapshot every
 * SNAPSHOT_EVERY entries of an account, so this reads at most about that many entries, however
 * long the account's history is.
 */
export interface SnapshotBalance {
  accountId: string;
  /** The latest snapshot's balance plus every entry after it. */
  balanceMinor: bigint;
  /** accounts.balance, read in the same statement (so under concurrent postings it is the same moment). */
  liveMinor: bigint;
  /** The snapshot started from; null before the account's first one (then every entry is replayed). */
  snapshotSeq: bigint | null;
  entriesReplayed: number;
}

/** Undefined when there is no such account on this shard. */
export async function balanceFromSnapshot(
  client: pg.ClientBase | pg.Pool,
  accountId: string,
): Promise<SnapshotBalance | undefined> {
  const found = await client.query<{
    snapshot_seq: string | null;
    snapshot_balance: string | null;
    replayed: string;
    entries: number;
    live: string;
  }>(
    `select s.account_seq::text as snapshot_seq, s.balance::text as snapshot_balance,
            r.total::text as replayed, r.entries, a.balance::text as live
       from accounts a
       left join lateral (select s.account_seq, s.entry_id, s.balance
                            from account_snapshots s
                           where s.account_id = a.account_id
                           order by s.account_seq desc
                           limit 1) s on true
       cross join lateral (select coalesce(sum(e.amount), 0) as total, count(*)::int as entries
                             from entries e
                            where e.account_id = a.account_id and e.entry_id > coalesce(s.entry_id, 0)) r
      where a.account_id = $1::text`,
    [accountId],
  );
  const row = found.rows[0];
  if (!row) return undefined;
  return {
    accountId,
    balanceMinor: BigInt(row.snapshot_balance ?? 0) + BigInt(row.replayed),
    liveMinor: BigInt(row.live),
    snapshotSeq: row.snapshot_seq === null ? null : BigInt(row.snapshot_seq),
    entriesReplayed: row.entries,
  };
}
