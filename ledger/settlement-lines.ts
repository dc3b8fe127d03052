import type pg from 'pg';
import type { ShardSet } from '../db/shards';
import type { LedgerSettlementLines, SettlementLine, SettlementLineKind } from '../domain/settlement-match';
import { reference_shard } from '../domain/shard-routing';

/**
 * What the wallet says moved through our settlement account at the bank, as the bank's statement
 * would show it (signed: money out of the account is negative), for settlement reconciliation:
 *
 * - payout_settled / payout_returned: a payout's `settle` and `return` legs on its owner's shard
 *   (the settlement account's entry is the opposite of the bank's line: a settle credits our
 *   settlement account as it debits the bank's), with the trace number of its file entry;
 * - incoming_credit: a pay-in deposit (`pi_<trace>`) on its owner's shard, and a credit the
 *   wallet took no wallet for (R02/R03), which never reached the ledger but did reach the bank;
 * - incoming_credit_returned: such a credit sent back, once the bank accepted its return file.
 *
 * A day's lines are read through the settlement account's (account, posting time) index; lines
 * named by trace number through each record's key, never a scan of the ledger.
 */
export function ledgerSettlementLines(shards: ShardSet, currency: string): LedgerSettlementLines {
  const reference = () => shards.pool(reference_shard);
  return {
    async ofDay(date) {
      const perShard = await Promise.all(shards.pools.map((pool) => settlementEntriesOfDay(pool, currency, date)));
      return [...perShard.flat(), ...(await unclaimedCreditsOfDay(reference(), date))];
    },

    async withKeys(lines) {
      const tracesOf = (...kinds: SettlementLineKind[]) => [
        ...new Set(lines.filter((line) => kinds.includes(line.kind)).map((line) => line.traceNumber)),
      ];
      const [payouts, credits] = await Promise.all([
        payoutLinesWithTraces(shards, tracesOf('payout_settled', 'payout_returned')),
        creditLinesWithTraces(shards, tracesOf('incoming_credit', 'incoming_credit_returned')),
      ]);
      return [...payouts, ...credits];
    },
  };
}

interface LineRow {
  kind: SettlementLineKind;
  trace_number: string;
  amount: string;
  posted_at: Date;
  reference: string;
}

function lineOf(row: LineRow): SettlementLine {
  return {
    kind: row.kind,
    traceNumber: row.trace_number,
    amountMinor: BigInt(row.amount),
    postedAt: row.posted_at.toISOString(),
    reference: row.reference,
  };
}

const day_bounds = `coalesce(e.posted_at, e.created_at) >= ($2::date)::timestamp at time zone 'UTC'
  and coalesce(e.posted_at, e.created_at) < ($2::date + 1)::timestamp at time zone 'UTC'`;

/** One shard's settle, return and pay-in legs on its settlement account during a UTC day. */
async function settlementEntriesOfDay(pool: pg.Pool, currency: string, date: string): Promise<SettlementLine[]> {
  const found = await pool.query<LineRow>(
    `select case when e.leg = 'settle' then 'payout_settled'
                 when e.leg = 'return' then 'payout_returned'
                 else 'incoming_credit' end as kind,
            coalesce(p.trace_number, substr(e.transfer_id, 4)) as trace_number,
            (-e.amount)::text as amount,
            coalesce(e.posted_at, e.created_at) as posted_at,
            e.transfer_id as reference
       from entries e
       left join payouts p on p.payout_id = e.transfer_id and e.leg in ('settle', 'return')
      where e.account_id = 'settlement:' || $1::text and ${day_bounds}
        and (e.leg in ('settle', 'return') or (e.leg = 'credit' and e.transfer_id like 'pi\\_%'))`,
    [currency, date],
  );
  return found.rows.map(lineOf);
}

/** Credits no wallet took (R02/R03) that reached us on the day, and those whose return the bank took on the day. */
async function unclaimedCreditsOfDay(reference: pg.Pool, date: string): Promise<SettlementLine[]> {
  const found = await reference.query<LineRow>(
    `select 'incoming_credit' as kind, c.trace_number, c.amount::text as amount, c.received_at as posted_at,
            'unclaimed' as reference
       from payin_credits c
      where c.status in ('return_pending', 'returned')
        and c.received_at >= ($1::date)::timestamp at time zone 'UTC'
        and c.received_at < ($1::date + 1)::timestamp at time zone 'UTC'
     union all
     select 'incoming_credit_returned', c.trace_number, (-c.amount)::text, f.uploaded_at, c.return_code
       from payin_credits c join payin_return_files f on f.file_sequence = c.return_file_sequence
      where c.status = 'returned'
        and f.uploaded_at >= ($1::date)::timestamp at time zone 'UTC'
        and f.uploaded_at < ($1::date + 1)::timestamp at time zone 'UTC'`,
    [date],
  );
  return found.rows.map(lineOf);
}

/** Payouts' settle and return legs by their entries' trace numbers, whatever day they posted. */
async function payoutLinesWithTraces(shards: ShardSet, traces: string[]): Promise<SettlementLine[]> {
  if (traces.length === 0) return [];
  const entries = await shards
    .pool(reference_shard)
    .query<{ id: string; user_id: string }>(
      'select payout_id as id, user_id from payout_file_entries where trace_number = any($1::text[])',
      [traces],
    );
  const byShard = groupByShard(shards, entries.rows);
  const perShard = await Promise.all(
    [...byShard].map(async ([shard, payoutIds]) => {
      // The leg moved exactly the hold's amount (settle_hold.sql, return_settled.sql).
      const found = await shards.pool(shard).query<LineRow>(
        `select case when s.leg = 'settle' then 'payout_settled' else 'payout_returned' end as kind,
                p.trace_number,
                (case when s.leg = 'settle' then -h.amount else h.amount end)::text as amount,
                s.created_at as posted_at, p.payout_id as reference
           from postings s
           join payouts p on p.payout_id = s.transfer_id
           join payout_holds h on h.payout_id = s.transfer_id
          where s.transfer_id = any($1::text[]) and s.leg in ('settle', 'return') and s.outcome = 'posted'`,
        [payoutIds],
      );
      return found.rows.map(lineOf);
    }),
  );
  return perShard.flat();
}

/** Incoming credits and their returns by trace number: deposits from their owners' shards, the rest from the reference shard. */
async function creditLinesWithTraces(shards: ShardSet, traces: string[]): Promise<SettlementLine[]> {
  if (traces.length === 0) return [];
  const reference = shards.pool(reference_shard);
  const unclaimed = await reference.query<LineRow>(
    `select 'incoming_credit' as kind, c.trace_number, c.amount::text as amount, c.received_at as posted_at,
            'unclaimed' as reference
       from payin_credits c
      where c.trace_number = any($1::text[]) and c.status in ('return_pending', 'returned')
     union all
     select 'incoming_credit_returned', c.trace_number, (-c.amount)::text, f.uploaded_at, c.return_code
       from payin_credits c join payin_return_files f on f.file_sequence = c.return_file_sequence
      where c.trace_number = any($1::text[]) and c.status = 'returned'`,
    [traces],
  );
  const claimed = await reference.query<{ id: string; user_id: string }>(
    `select trace_number as id, user_id from payin_credits
      where trace_number = any($1::text[]) and status in ('received', 'credited')`,
    [traces],
  );
  const perShard = await Promise.all(
    [...groupByShard(shards, claimed.rows)].map(async ([shard, claimedTraces]) => {
      const found = await shards.pool(shard).query<LineRow>(
        `select 'incoming_credit' as kind, d.trace_number, d.amount::text as amount, d.credited_at as posted_at,
                d.posting_id as reference
           from payin_deposits d where d.trace_number = any($1::text[])`,
        [claimedTraces],
      );
      return found.rows.map(lineOf);
    }),
  );
  return [...unclaimed.rows.map(lineOf), ...perShard.flat()];
}

/** Ids grouped by the shard of their owner. */
function groupByShard(shards: ShardSet, rows: { id: string; user_id: string }[]): Map<number, string[]> {
  const byShard = new Map<number, string[]>();
  for (const row of rows) {
    const shard = shards.shardOf(row.user_id);
    byShard.set(shard, [...(byShard.get(shard) ?? []), row.id]);
  }
  return byShard;
}
