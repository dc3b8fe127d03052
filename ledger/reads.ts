import type pg from 'pg';

export interface BalanceLine {
  currency: string;
  amountMinor: bigint;
}

export async function balancesOf(client: pg.Pool, userId: string): Promise<BalanceLine[]> {
  const found = await client.query<{ currency: string; balance: string }>(
    `select currency, balance from accounts where kind = 'customer' and user_id = $1::text order by currency`,
    [userId],
  );
  return found.rows.map((row) => ({ currency: row.currency, amountMinor: BigInt(row.balance) }));
}

export interface HistoryEntry {
  entryId: bigint;
  transferId: string;
  currency: string;
  amountMinor: bigint;
  balanceAfterMinor: bigint;
  kind: string;
  createdAt: Date;
}

/** Newest first, keyset-paginated on entry_id (no OFFSET): pass the last entry id seen as `beforeEntryId`. */
export async function historyOf(
  client: pg.Pool,
  query: { userId: string; currency?: string; limit: number; beforeEntryId?: bigint },
): Promise<HistoryEntry[]> {
  const found = await client.query<{
    entry_id: string;
    transfer_id: string;
    currency: string;
    amount: string;
    balance_after: string;
    kind: string;
    created_at: Date;
  }>(
    `select e.entry_id, e.transfer_id, e.currency, e.amount, e.balance_after, e.kind, e.created_at
       from entries e
       join accounts a on a.account_id = e.account_id
      where a.kind = 'customer' and a.user_id = $1::text
        and ($2::char(3) is null or a.currency = $2::char(3))
        and ($3::bigint is null or e.entry_id < $3::bigint)
      order by e.entry_id desc
      limit $4::int`,
    [query.userId, query.currency ?? null, query.beforeEntryId?.toString() ?? null, query.limit],
  );
  return found.rows.map((row) => ({
    entryId: BigInt(row.entry_id),
    transferId: row.transfer_id,
    currency: row.currency,
    amountMinor: BigInt(row.amount),
    balanceAfterMinor: BigInt(row.balance_after),
    kind: row.kind,
    createdAt: row.created_at,
  }));
}
