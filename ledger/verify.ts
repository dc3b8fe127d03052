import type pg from 'pg';

/**
 * `npm run ledger -- verify`: walks every account's hash chain on a shard
 * (migrations/1763769600009_ledger-chain.sql) and names what is broken. The hash itself is
 * computed by the database's entry_chain_hash, the same function the entries trigger uses, so
 * there is one definition of it.
 */

/** Entries read per round trip; keyset-paged, so memory stays flat on any shard. */
const verify_batch_size = 10_000;
/** Breaks a report lists; breakCount counts them all. */
const breaks_listed_max = 100;

/**
 * What can be wrong, one fixed list:
 * - hash_mismatch: the entry's hash is not that of its content and its predecessor's hash (the
 *   entry, or the hash, was changed);
 * - seq_gap: entries of the account are missing before this one (deleted);
 * - unchained: the entry has no hash (inserted with the triggers off);
 * - tail_mismatch: the account's newest entry's balance_after is not its balance (a truncated
 *   tail, or a balance changed behind the ledger's back);
 * - snapshot_mismatch: a snapshot does not match the entry it was taken at.
 */
export type ChainProblem = 'hash_mismatch' | 'seq_gap' | 'unchained' | 'tail_mismatch' | 'snapshot_mismatch';

export interface ChainBreak {
  problem: ChainProblem;
  accountId: string;
  /** The entry that is wrong (for seq_gap, the first one after the gap); null for an account with a balance and no entries. */
  entryId: bigint | null;
  detail: string;
}

export interface VerifyReport {
  accounts: number;
  entries: number;
  snapshots: number;
  /** At most breaks_listed_max, chain breaks first, in the order of the walk. */
  breaks: ChainBreak[];
  breakCount: number;
  /** The break at the oldest entry (lowest entry_id) of those read (the walk reads every one): where to start looking. */
  first: ChainBreak | null;
}

/** The whole check, in one REPEATABLE READ read-only snapshot, so postings landing meanwhile are not half seen. */
export async function verifyShard(client: pg.ClientBase, options: { batchSize?: number } = {}): Promise<VerifyReport> {
  const found = new BreakList();
  await client.query('begin isolation level repeatable read read only');
  try {
    const walked = await walkChains(client, options.batchSize ?? verify_batch_size, found);
    await unchainedEntries(client, found);
    await tailMismatches(client, found);
    const snapshots = await snapshotMismatches(client, found);
    return { ...walked, snapshots, breaks: found.listed, breakCount: found.count, first: found.first };
  } finally {
    await client.query('rollback');
  }
}

class BreakList {
  readonly listed: ChainBreak[] = [];
  count = 0;
  first: ChainBreak | null = null;

  add(found: ChainBreak): void {
    this.addCapped([found], 1);
  }

  /** Breaks a capped query read, and how many it counted. */
  addCapped(read: ChainBreak[], total: number): void {
    this.count += total;
    for (const found of read) {
      if (this.listed.length < breaks_listed_max) this.listed.push(found);
      if (
        found.entryId !== null &&
        (this.first === null || this.first.entryId === null || found.entryId < this.first.entryId)
      )
        this.first = found;
    }
  }
}

interface ChainRow {
  account_id: string;
  entry_id: string;
  account_seq: string;
  hash: Buffer;
  hash_ok: boolean;
}

/**
 * Every chained entry in chain order, (account_id, account_seq), paged on the unique index of
 * that order. Each hash is recomputed from the entry and its predecessor's stored hash (the
 * previous page's last one is carried into the next), so one changed entry is one break.
 */
async function walkChains(
  client: pg.ClientBase,
  batchSize: number,
  found: BreakList,
): Promise<{ accounts: number; entries: number }> {
  let accounts = 0;
  let entries = 0;
  let expectedSeq = 1n;
  let after = null as { accountId: string; seq: string; hash: Buffer } | null;
  for (;;) {
    const page: { rows: ChainRow[] } = await client.query(
      `select e.account_id, e.entry_id::text as entry_id, e.account_seq::text as account_seq, e.hash,
              e.hash = entry_chain_hash(p_previous => case when lag(e.account_id) over w = e.account_id then lag(e.hash) over w
                                                           when e.account_id = $1::text then $4::bytea end,
                                        e => e) as hash_ok
         from entries e
        where e.account_seq is not null and ($1::text is null or (e.account_id, e.account_seq) > ($1::text, $2::bigint))
       window w as (order by e.account_id, e.account_seq)
        order by e.account_id, e.account_seq
        limit $3::int`,
      [after?.accountId ?? null, after?.seq ?? null, batchSize, after?.hash ?? null],
    );
    for (const row of page.rows) {
      if (row.account_id !== after?.accountId) {
        accounts++;
        expectedSeq = 1n;
      }
      const seq = BigInt(row.account_seq);
      if (seq !== expectedSeq) {
        // The unique index keeps seq increasing, so this is a gap: entries were deleted.
        const missing = seq - expectedSeq;
        found.add({
          problem: 'seq_gap',
          accountId: row.account_id,
          entryId: BigInt(row.entry_id),
          detail: `account_seq ${seq} follows ${expectedSeq - 1n}: ${missing} ${missing === 1n ? 'entry is' : 'entries are'} missing before it`,
        });
      } else if (!row.hash_ok) {
        found.add({
          problem: 'hash_mismatch',
          accountId: row.account_id,
          entryId: BigInt(row.entry_id),
          detail: `account_seq ${seq}: its hash is not that of its content and the previous entry's hash (changed after it was written)`,
        });
      }
      expectedSeq = seq + 1n;
      after = { accountId: row.account_id, seq: row.account_seq, hash: row.hash };
    }
    entries += page.rows.length;
    if (page.rows.length < batchSize) return { accounts, entries };
  }
}

/** Entries without a hash; a scan of the table, as the walk is. */
async function unchainedEntries(client: pg.ClientBase, found: BreakList): Promise<void> {
  const rows = await client.query<{ entry_id: string; account_id: string; total: number }>(
    `select e.entry_id::text as entry_id, e.account_id, (count(*) over ())::int as total
       from entries e where e.hash is null order by e.entry_id limit $1::int`,
    [breaks_listed_max],
  );
  found.addCapped(
    rows.rows.map((row) => ({
      problem: 'unchained',
      accountId: row.account_id,
      entryId: BigInt(row.entry_id),
      detail: 'no hash: written with the triggers off',
    })),
    rows.rows[0]?.total ?? 0,
  );
}

/** Each account's newest entry must end at its balance; an account without entries must be at zero. */
async function tailMismatches(client: pg.ClientBase, found: BreakList): Promise<void> {
  const rows = await client.query<{
    account_id: string;
    balance: string;
    entry_id: string | null;
    balance_after: string | null;
    total: number;
  }>(
    `select a.account_id, a.balance::text as balance, t.entry_id::text as entry_id, t.balance_after::text as balance_after, (count(*) over ())::int as total
       from accounts a
       left join lateral (select e.entry_id, e.balance_after from entries e where e.account_id = a.account_id order by e.entry_id desc limit 1) t on true
      where coalesce(t.balance_after, 0) <> a.balance
      order by a.account_id
      limit $1::int`,
    [breaks_listed_max],
  );
  found.addCapped(
    rows.rows.map((row) => ({
      problem: 'tail_mismatch',
      accountId: row.account_id,
      entryId: row.entry_id === null ? null : BigInt(row.entry_id),
      detail:
        row.entry_id === null
          ? `balance ${row.balance} with no entries`
          : `the newest entry's balance_after is ${row.balance_after}, the balance ${row.balance}`,
    })),
    rows.rows[0]?.total ?? 0,
  );
}

/** Snapshots must name the entry at their account_seq, with its balance_after and hash. Returns how many there are. */
async function snapshotMismatches(client: pg.ClientBase, found: BreakList): Promise<number> {
  const rows = await client.query<{
    account_id: string;
    account_seq: string;
    entry_id: string;
    balance: string;
    found_entry_id: string | null;
    balance_after: string | null;
    total: number;
    snapshots: number;
  }>(
    `select s.account_id, s.account_seq::text as account_seq, s.entry_id::text as entry_id, s.balance::text as balance,
            e.entry_id::text as found_entry_id, e.balance_after::text as balance_after,
            (count(*) over ())::int as total, (select count(*) from account_snapshots)::int as snapshots
       from account_snapshots s
       left join entries e on e.account_id = s.account_id and e.account_seq = s.account_seq
      where e.entry_id is distinct from s.entry_id or e.balance_after <> s.balance or e.hash <> s.hash
      order by s.account_id, s.account_seq
      limit $1::int`,
    [breaks_listed_max],
  );
  const detail = (row: (typeof rows.rows)[number]) =>
    row.found_entry_id !== row.entry_id
      ? `the snapshot at account_seq ${row.account_seq} names entry ${row.entry_id}; the chain has ${row.found_entry_id ?? 'no entry'} there`
      : row.balance_after !== row.balance
        ? `the snapshot at account_seq ${row.account_seq} holds balance ${row.balance}, the entry's balance_after is ${row.balance_after}`
        : `the snapshot at account_seq ${row.account_seq} holds another hash than its entry`;
  found.addCapped(
    rows.rows.map((row) => ({
      problem: 'snapshot_mismatch',
      accountId: row.account_id,
      entryId: BigInt(row.entry_id),
      detail: detail(row),
    })),
    rows.rows[0]?.total ?? 0,
  );
  if (rows.rows.length > 0) return rows.rows[0]!.snapshots;
  const counted = await client.query<{ snapshots: number }>('select count(*)::int as snapshots from account_snapshots');
  return counted.rows[0]!.snapshots;
}
