import type pg from 'pg';
import type { Capped } from './reconciliation-reads';

/**
 * The ledger's balance invariants, as one statement each on one shard: the only copy of these
 * queries. Reconciliation (ledger/reconciliation.ts) runs them inside its snapshot; the bench's
 * and the chaos run's final checks and the tests run them on their own connections.
 *  - balance equals entries: each account's materialized balance is the sum of its entries;
 *  - zero sum: per currency, a shard's balances sum to zero (every posting balances on its own);
 *  - holds in flight: per currency, a shard's payouts_in_flight account holds exactly its open
 *    payout holds (ledger/payout-holds.ts).
 */

/** A client, or a pool when the caller needs no snapshot. */
type Queryable = Pick<pg.ClientBase, 'query'> | Pick<pg.Pool, 'query'>;

export interface BalanceMismatchRow {
  accountId: string;
  currency: string;
  storedMinor: bigint;
  computedMinor: bigint;
}

/** Accounts whose materialized balance differs from the sum of their entries. */
export async function balanceMismatches(client: Queryable, limit: number): Promise<Capped<BalanceMismatchRow>> {
  const found = await client.query<{
    account_id: string;
    currency: string;
    stored: string;
    computed: string;
    total: number;
  }>(
    `select a.account_id, a.currency, a.balance::text as stored, coalesce(e.total, 0)::text as computed, (count(*) over ())::int as total
       from accounts a
       left join (select account_id, sum(amount) as total from entries group by account_id) e using (account_id)
      where a.balance <> coalesce(e.total, 0)
      order by a.account_id
      limit $1::int`,
    [limit],
  );
  return {
    rows: found.rows.map((row) => ({
      accountId: row.account_id,
      currency: row.currency,
      storedMinor: BigInt(row.stored),
      computedMinor: BigInt(row.computed),
    })),
    total: found.rows[0]?.total ?? 0,
  };
}

export type AccountKind = 'customer' | 'clearing' | 'settlement' | 'fx' | 'payouts_in_flight';

export interface KindTotalRow {
  currency: string;
  kind: AccountKind;
  totalMinor: bigint;
}

/** The sum of the shard's balances per currency and account kind; one row per pair, so a handful. */
export async function balanceTotals(client: Queryable): Promise<KindTotalRow[]> {
  const found = await client.query<{ currency: string; kind: AccountKind; total: string }>(
    'select currency, kind, sum(balance)::text as total from accounts group by currency, kind order by currency, kind',
  );
  return found.rows.map((row) => ({ currency: row.currency, kind: row.kind, totalMinor: BigInt(row.total) }));
}

export interface OpenHoldsRow {
  currency: string;
  /** The payouts_in_flight account's balance. */
  accountMinor: bigint;
  /** The sum of the payout holds still held. */
  openHoldsMinor: bigint;
}

/** Per currency, the shard's payouts_in_flight balance beside the open holds it should equal. */
export async function openHoldTotals(client: Queryable): Promise<OpenHoldsRow[]> {
  const found = await client.query<{ currency: string; account: string; open_holds: string }>(
    `select currency, sum(account)::text as account, sum(open_holds)::text as open_holds
       from (select currency, balance as account, 0 as open_holds from accounts where kind = 'payouts_in_flight'
             union all
             select currency, 0, amount from payout_holds where status = 'held') lines
      group by currency
      order by currency`,
  );
  return found.rows.map((row) => ({
    currency: row.currency,
    accountMinor: BigInt(row.account),
    openHoldsMinor: BigInt(row.open_holds),
  }));
}
