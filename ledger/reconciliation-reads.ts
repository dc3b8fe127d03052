import type pg from 'pg';

/**
 * The per-shard reads of reconciliation, each one set-based statement run inside the caller's
 * snapshot (ledger/reconciliation.ts). Lists are capped at `limit` rows; `total` counts them all.
 */

export interface Capped<T> {
  rows: T[];
  total: number;
}

export interface BalanceMismatchRow {
  accountId: string;
  currency: string;
  storedMinor: bigint;
  computedMinor: bigint;
}

/** Accounts whose materialized balance differs from the sum of their entries. */
export async function balanceMismatches(client: pg.ClientBase, limit: number): Promise<Capped<BalanceMismatchRow>> {
  const found = await client.query<{ account_id: string; currency: string; stored: string; computed: string; total: number }>(
    `select a.account_id, a.currency, a.balance::text as stored, coalesce(e.total, 0)::text as computed, (count(*) over ())::int as total
       from accounts a
       left join (select account_id, sum(amount) as total from entries group by account_id) e using (account_id)
      where a.balance <> coalesce(e.total, 0)
      order by a.account_id
      limit $1::int`,
    [limit],
  );
  return {
    rows: found.rows.map((row) => ({ accountId: row.account_id, currency: row.currency, storedMinor: BigInt(row.stored), computedMinor: BigInt(row.computed) })),
    total: found.rows[0]?.total ?? 0,
  };
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
    rows: found.rows.map((row) => ({ transferId: row.transfer_id, leg: row.leg, currency: row.currency, sumMinor: BigInt(row.sum) })),
    total: found.rows[0]?.total ?? 0,
  };
}

export type AccountKind = 'customer' | 'clearing' | 'settlement' | 'fx';

export interface KindTotalRow {
  currency: string;
  kind: AccountKind;
  totalMinor: bigint;
}

/** The sum of the shard's balances per currency and account kind; one row per pair, so a handful. */
export async function balanceTotals(client: pg.ClientBase): Promise<KindTotalRow[]> {
  const found = await client.query<{ currency: string; kind: AccountKind; total: string }>(
    'select currency, kind, sum(balance)::text as total from accounts group by currency, kind order by currency, kind',
  );
  return found.rows.map((row) => ({ currency: row.currency, kind: row.kind, totalMinor: BigInt(row.total) }));
}
