import pg from 'pg';
import { watchConnection } from '../db/connection-errors';
import { balanceMismatches, balanceTotals, openHoldTotals } from '../ledger/balance-checks';

export interface TransferRow {
  transfer_id: string;
  kind: 'transfer' | 'deposit' | 'withdrawal';
  status: string;
  failure_reason: string | null;
  reversed_by: string | null;
  converts: boolean;
  /** What the record says the client asked to move, in `currency` (int8 as pg returns it). */
  amount: string;
  currency: string;
}

/** A conversions row as one shard holds it (amounts as decimal strings, the rate exact). */
export interface ConversionRow {
  source_currency: string;
  source_amount: string;
  target_currency: string;
  target_amount: string;
  rate: string;
}

/** One leg as a shard decided it; a posted leg's customer entry says what it moved for the customer. */
export interface LegRow {
  leg: string;
  outcome: string;
  entries: number;
  shard: number;
  /** The customer entry's signed amount and currency (null when the leg moved nothing). */
  customer_minor: bigint | null;
  customer_currency: string | null;
  /** The settlement account's entry (payouts settle and return, pay-ins credit through it); null when none. */
  settlement_minor: bigint | null;
}

/** A pay-in's postings are keyed `pi_<trace number>` (db/functions/credit_payin.sql), a payout's by its id. */
export const payin_posting_prefix = 'pi_';

export interface LedgerSnapshot {
  /** currency -> account kind -> sum of balances over every shard (minor units). */
  totals: Map<string, Map<string, bigint>>;
  transfers: Map<string, TransferRow>;
  /** transfer id -> leg -> where and how it was decided (a leg on two shards would be listed twice). */
  legs: Map<string, LegRow[]>;
  /** transfer id -> its conversions rows, from every shard that wrote one. */
  conversions: Map<string, ConversionRow[]>;
  customers: { below_floor: number; overridden: number; negative: number; accounts: number };
  drifted_accounts: number;
  open_records: number;
  /** Per shard and currency, a payouts_in_flight account that is not the sum of the open payout holds. */
  holds_mismatched: string[];
}

/** Reads every shard database directly: balances, records, postings with their entry counts, drift. */
export async function readLedger(shardUrls: readonly string[]): Promise<LedgerSnapshot> {
  const snapshot: LedgerSnapshot = {
    totals: new Map(),
    transfers: new Map(),
    legs: new Map(),
    conversions: new Map(),
    customers: { below_floor: 0, overridden: 0, negative: 0, accounts: 0 },
    drifted_accounts: 0,
    open_records: 0,
    holds_mismatched: [],
  };
  for (const [shard, url] of shardUrls.entries())
    await withCheckConnection(url, (client) => readShard(client, shard, snapshot));
  return snapshot;
}

async function readShard(client: pg.Client, shard: number, snapshot: LedgerSnapshot): Promise<void> {
  for (const row of await balanceTotals(client)) {
    const byKind = snapshot.totals.get(row.currency) ?? new Map<string, bigint>();
    byKind.set(row.kind, (byKind.get(row.kind) ?? 0n) + row.totalMinor);
    snapshot.totals.set(row.currency, byKind);
  }
  const floors = await client.query<{ below: string; overridden: string; negative: string; accounts: string }>(
    `select count(*) filter (where balance < min_balance and not negative_override)::text as below,
            count(*) filter (where negative_override)::text as overridden,
            count(*) filter (where balance < 0)::text as negative,
            count(*)::text as accounts
       from accounts where kind = 'customer'`,
  );
  const floor = floors.rows[0]!;
  snapshot.customers.below_floor += Number(floor.below);
  snapshot.customers.overridden += Number(floor.overridden);
  snapshot.customers.negative += Number(floor.negative);
  snapshot.customers.accounts += Number(floor.accounts);
  for (const row of await openHoldTotals(client))
    if (row.accountMinor !== row.openHoldsMinor)
      snapshot.holds_mismatched.push(
        `shard ${shard} ${row.currency}: payouts_in_flight ${row.accountMinor}, open holds ${row.openHoldsMinor}`,
      );
  // The count is all the invariant needs: one listed row is enough to carry it.
  snapshot.drifted_accounts += (await balanceMismatches(client, 1)).total;
  const records = await client.query<TransferRow>(
    `select t.transfer_id, t.kind, t.status, t.failure_reason, t.reversed_by, t.amount::text as amount, t.currency::text as currency,
            exists (select 1 from conversions c where c.transfer_id = t.transfer_id) as converts
       from transfers t`,
  );
  for (const row of records.rows) {
    snapshot.transfers.set(row.transfer_id, row);
    if (row.status === 'PENDING' || row.status === 'PENDING_REVIEW') snapshot.open_records++;
  }
  const postings = await client.query<{
    transfer_id: string;
    leg: string;
    outcome: string;
    entries: string;
    customer_minor: string | null;
    customer_currency: string | null;
    settlement_minor: string | null;
  }>(
    `select p.transfer_id, p.leg, p.outcome, count(e.entry_id)::text as entries,
            (sum(e.amount) filter (where e.account_id like 'customer:%'))::text as customer_minor,
            (max(e.currency) filter (where e.account_id like 'customer:%'))::text as customer_currency,
            (sum(e.amount) filter (where e.account_id like 'settlement:%'))::text as settlement_minor
       from postings p left join entries e on e.transfer_id = p.transfer_id and e.leg = p.leg
      group by p.transfer_id, p.leg, p.outcome`,
  );
  for (const row of postings.rows) {
    const legs = snapshot.legs.get(row.transfer_id) ?? [];
    legs.push({
      leg: row.leg,
      outcome: row.outcome,
      entries: Number(row.entries),
      shard,
      customer_minor: row.customer_minor === null ? null : BigInt(row.customer_minor),
      customer_currency: row.customer_currency,
      settlement_minor: row.settlement_minor === null ? null : BigInt(row.settlement_minor),
    });
    snapshot.legs.set(row.transfer_id, legs);
  }
  const conversions = await client.query<ConversionRow & { transfer_id: string }>(
    `select transfer_id, source_currency::text as source_currency, source_amount::text as source_amount,
            target_currency::text as target_currency, target_amount::text as target_amount, rate::text as rate
       from conversions`,
  );
  for (const { transfer_id, ...row } of conversions.rows)
    snapshot.conversions.set(transfer_id, [...(snapshot.conversions.get(transfer_id) ?? []), row]);
}

/** A connection of the run's own checks (never a wallet's: faults cut those), closed after `run`. */
export async function withCheckConnection<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = watchConnection(
    new pg.Client({ connectionString: url, application_name: 'wallet-chaos-check' }),
    'chaos check',
  );
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** How many records are still open: polled until the run settles. */
export async function openRecords(shardUrls: readonly string[]): Promise<number> {
  let open = 0;
  for (const url of shardUrls)
    open += await withCheckConnection(url, async (client) => {
      const found = await client.query<{ count: string }>(
        `select count(*)::text as count from transfers where status in ('PENDING', 'PENDING_REVIEW')`,
      );
      return Number(found.rows[0]!.count);
    });
  return open;
}
