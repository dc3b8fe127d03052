import type pg from 'pg';
import { conversionOf, type ConversionRecord, type ConversionJson } from './fx';

export interface BalanceLine {
  currency: string;
  amountMinor: bigint;
}

/** A wallet's balance now: the ledger balance and what is moving beside it. */
export interface CurrentBalanceLine extends BalanceLine {
  /** What a transfer, withdrawal or payout may take now: the balance above the wallet's floor (min_balance), never below 0. */
  availableMinor: bigint;
  /** Held for payouts that have not settled or been released: already out of amountMinor, back in it if the payout fails. */
  pendingOutMinor: bigint;
  /** On its way in and not in amountMinor yet; nothing is, today (pay-ins credit at once). */
  pendingInMinor: bigint;
}

export async function balancesOf(client: pg.Pool, userId: string): Promise<CurrentBalanceLine[]> {
  // The open holds come from payout_holds' partial index (open ones only), one probe per wallet.
  const found = await client.query<{ currency: string; balance: string; min_balance: string; pending_out: string }>(
    `select a.currency, a.balance, a.min_balance,
            (select coalesce(sum(h.amount), 0) from payout_holds h
              where h.user_id = a.user_id and h.currency = a.currency and h.status = 'held')::text as pending_out
       from accounts a
      where a.kind = 'customer' and a.user_id = $1::text
      order by a.currency`,
    [userId],
  );
  return found.rows.map((row) => {
    const amountMinor = BigInt(row.balance);
    const aboveFloor = amountMinor - BigInt(row.min_balance);
    return {
      currency: row.currency,
      amountMinor,
      availableMinor: aboveFloor > 0n ? aboveFloor : 0n,
      pendingOutMinor: BigInt(row.pending_out),
      pendingInMinor: 0n,
    };
  });
}

/**
 * The balances as they stood at an instant (RFC 3339 text, passed to PostgreSQL as is, so no
 * precision is lost): for each of the user's wallets, the balance_after of its newest entry
 * posted at or before it, one index probe each; no replay. A wallet with no entry by then is
 * left out, so an instant before the first entry gives an empty list.
 */
export async function balancesAt(client: pg.Pool, userId: string, instant: string): Promise<BalanceLine[]> {
  const found = await client.query<{ currency: string; balance_after: string }>(
    `select a.currency, e.balance_after
       from accounts a
       cross join lateral (
         select e.balance_after
           from entries e
          where e.account_id = a.account_id and coalesce(e.posted_at, e.created_at) <= $2::timestamptz
          order by coalesce(e.posted_at, e.created_at) desc, e.entry_id desc
          limit 1) e
      where a.kind = 'customer' and a.user_id = $1::text
      order by a.currency`,
    [userId, instant],
  );
  return found.rows.map((row) => ({ currency: row.currency, amountMinor: BigInt(row.balance_after) }));
}

export interface HistoryEntry {
  entryId: bigint;
  transferId: string;
  currency: string;
  amountMinor: bigint;
  balanceAfterMinor: bigint;
  kind: string;
  /** RFC 3339 in UTC to the microsecond, as stored: `?at=` with this very value includes the entry. */
  postedAt: string;
  /** Refunds, reversals and payout releases and returns: this wallet's entry that this one gives back (the debit, the credit, the hold). */
  undoesEntryId: bigint | null;
  /** Entries of cross-currency transfers: the conversion, as recorded on this shard. */
  conversion: ConversionRecord | null;
  /** Deposits that came from the bank (pay-ins): who sent them, the bank's trace number, and the poll that posted them. */
  payIn: { traceNumber: string; originatorName: string; workflowId: string } | null;
}

/** Newest first, keyset-paginated on entry_id (no OFFSET): pass the last entry id seen as `beforeEntryId`. */
export async function historyOf(
  client: pg.Pool,
  query: {
    userId: string;
    currency?: string;
    limit: number;
    beforeEntryId?: bigint;
    /** RFC 3339: entries posted at or after this instant. */
    from?: string;
    /** RFC 3339: entries posted before this instant. */
    to?: string;
  },
): Promise<HistoryEntry[]> {
  const found = await client.query<HistoryRow>(
    // One index range scan per wallet of the user (a wallet is a currency), each stopping at the
    // page size, then the few candidates merged: O(log n) per page however long the history.
    // Per wallet, entry_id and the posting time rise together (both are taken under the wallet's
    // row lock), so the scan runs on (account, posted time, entry_id) and the cursor's own time
    // bounds it from above: entries newer than the page are never read.
    // created_at in answers is when the entry was posted (posted_at; created_at for entries
    // older than that column), the same instant ?at= balances and from/to compare with.
    `with cursor_entry as (
       select coalesce(posted_at, created_at) as at, entry_id from entries where entry_id = $3::bigint
     )
     select e.entry_id, e.transfer_id, e.currency, e.amount, e.balance_after, e.kind,
            to_char(coalesce(e.posted_at, e.created_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as posted_at,
            -- What a refund or reversal gives back: the same wallet's entry of the leg it undoes
            -- (one probe of the (transfer_id, leg, account_id) key per entry of the page).
            (select u.entry_id from entries u
              where u.transfer_id = e.transfer_id and u.account_id = e.account_id
                and u.leg = case e.leg when 'refund' then 'debit' when 'reversal_credit' then 'debit' when 'reversal_debit' then 'credit'
                                 when 'release' then 'hold' when 'return' then 'hold' end
            ) as undoes_entry_id,
            (select jsonb_build_object('source_currency', c.source_currency, 'source_amount', c.source_amount::text,
                                       'target_currency', c.target_currency, 'target_amount', c.target_amount::text,
                                       'rate', c.rate::text, 'quote_id', null)
               from conversions c where c.transfer_id = e.transfer_id) as conversion,
            -- Pay-ins only (posting 'pi_<trace>', ledger/payins.ts): other entries probe nothing.
            case when e.kind = 'deposit' and e.transfer_id like 'pi\_%' then
              (select jsonb_build_object('trace_number', d.trace_number, 'originator_name', d.originator_name,
                                         'workflow_id', e.workflow_id)
                 from payin_deposits d where d.posting_id = e.transfer_id) end as pay_in
       from accounts a
       cross join lateral (
         select e.*
           from entries e
          where e.account_id = a.account_id
            and ($3::bigint is null
                 or (coalesce(e.posted_at, e.created_at), e.entry_id) < (select at, entry_id from cursor_entry))
            and ($5::timestamptz is null or coalesce(e.posted_at, e.created_at) >= $5::timestamptz)
            and ($6::timestamptz is null or coalesce(e.posted_at, e.created_at) < $6::timestamptz)
          order by coalesce(e.posted_at, e.created_at) desc, e.entry_id desc
          limit $4::int) e
      where a.kind = 'customer' and a.user_id = $1::text
        and ($2::char(3) is null or a.currency = $2::char(3))
      order by coalesce(e.posted_at, e.created_at) desc, e.entry_id desc
      limit $4::int`,
    [
      query.userId,
      query.currency ?? null,
      query.beforeEntryId?.toString() ?? null,
      query.limit,
      query.from ?? null,
      query.to ?? null,
    ],
  );
  return found.rows.map(historyEntryOf);
}

/** A row of historyOf's query: int8 columns come back from pg as strings. */
interface HistoryRow {
  entry_id: string;
  transfer_id: string;
  currency: string;
  amount: string;
  balance_after: string;
  kind: string;
  posted_at: string;
  undoes_entry_id: string | null;
  conversion: ConversionJson | null;
  pay_in: { trace_number: string; originator_name: string; workflow_id: string } | null;
}

function historyEntryOf(row: HistoryRow): HistoryEntry {
  return {
    entryId: BigInt(row.entry_id),
    transferId: row.transfer_id,
    currency: row.currency,
    amountMinor: BigInt(row.amount),
    balanceAfterMinor: BigInt(row.balance_after),
    kind: row.kind,
    postedAt: row.posted_at,
    undoesEntryId: row.undoes_entry_id === null ? null : BigInt(row.undoes_entry_id),
    conversion: conversionOf(row.conversion),
    payIn: row.pay_in && {
      traceNumber: row.pay_in.trace_number,
      originatorName: row.pay_in.originator_name,
      workflowId: row.pay_in.workflow_id,
    },
  };
}
