import pg from 'pg';
import { watchConnection } from '../../db/connection-errors';
import { balanceMismatches, balanceTotals } from '../../ledger/balance-checks';
import { bench_currency, bench_fx_currency } from '../targets/http-transfers';

export interface LedgerCheck {
  databases: number;
  /** Sums over all databases, in minor units (decimal strings: bigint does not go in JSON). */
  customer_total_minor: string;
  clearing_total_minor: string;
  settlement_total_minor: string;
  /** What `--fx` transfers left with the FX houses, in the bench currency (they paid it out in another). */
  fx_total_minor: string;
  /**
   * `--fx` in the FX currency: what the completed conversions' records say they paid out (the
   * sum of their target amounts), what customers and the FX houses hold in it, and conversions
   * whose target is not their source at their recorded rate, rounded down. Customers must hold
   * exactly the paid-out sum, the FX houses owe it, and the FX houses hold the converted source.
   */
  fx_currency: {
    currency: string;
    converted_source_minor: string;
    converted_target_minor: string;
    customer_total_minor: string;
    fx_total_minor: string;
    off_rate: number;
  };
  /** What the bench deposited: customers plus money in transit must equal it. */
  funded_total_minor: string;
  /** Databases whose accounts do not sum to zero in some currency (every posting balances, so each must). */
  unbalanced_databases: string[];
  /** Accounts whose balance is not the sum of their entries. */
  drifted_accounts: number;
  transfers_recorded: number;
  transfers_not_final: number;
  conserved: boolean;
  /** No transfer open and no money left in clearing (in transit between shards). */
  all_final: boolean;
}

/** Transfers still open after the load stops may be retrying; they get this long to finish. */
const settle_timeout_ms = 60_000;

/**
 * The ledger checked in the databases themselves: each sums to zero, every balance equals its
 * entries, customers hold what was deposited, and (after waiting for stragglers) no transfer is
 * open and clearing is back at zero.
 */
export async function checkLedger(databaseUrls: readonly string[], funded_total_minor: bigint): Promise<LedgerCheck> {
  const deadline_ms = Date.now() + settle_timeout_ms;
  for (;;) {
    const check = await readLedger(databaseUrls, funded_total_minor);
    if (check.all_final || Date.now() > deadline_ms) return check;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function readLedger(databaseUrls: readonly string[], funded_total_minor: bigint): Promise<LedgerCheck> {
  // Totals in the bench currency; every currency is checked to sum to zero per database.
  const totals = { customer: 0n, clearing: 0n, settlement: 0n, fx: 0n, payouts_in_flight: 0n };
  const fxTotals = { customer: 0n, clearing: 0n, settlement: 0n, fx: 0n, payouts_in_flight: 0n };
  const converted = { source: 0n, target: 0n, off_rate: 0 };
  const unbalanced: string[] = [];
  let drifted = 0;
  let recorded = 0;
  let open = 0;
  for (const url of databaseUrls) {
    const client = watchConnection(
      new pg.Client({ connectionString: url, application_name: 'wallet-bench-check' }),
      'bench check',
    );
    await client.connect();
    try {
      const database_totals = new Map<string, bigint>();
      for (const row of await balanceTotals(client)) {
        if (row.currency === bench_currency) totals[row.kind] += row.totalMinor;
        if (row.currency === bench_fx_currency) fxTotals[row.kind] += row.totalMinor;
        database_totals.set(row.currency, (database_totals.get(row.currency) ?? 0n) + row.totalMinor);
      }
      if ([...database_totals.values()].some((total) => total !== 0n)) unbalanced.push(new URL(url).pathname.slice(1));
      // The count is all the check needs: one listed row is enough to carry it.
      drifted += (await balanceMismatches(client, 1)).total;
      const transfers = await client.query<{ recorded: string; open: string }>(
        `select count(*) filter (where kind = 'transfer')::text as recorded,
                count(*) filter (where status not in ('COMPLETED', 'FAILED', 'REVERSED'))::text as open
           from transfers`,
      );
      recorded += Number(transfers.rows[0]!.recorded);
      open += Number(transfers.rows[0]!.open);
      const here = await convertedOn(client);
      converted.source += here.source;
      converted.target += here.target;
      converted.off_rate += here.off_rate;
    } finally {
      await client.end();
    }
  }
  return {
    databases: databaseUrls.length,
    customer_total_minor: totals.customer.toString(),
    clearing_total_minor: totals.clearing.toString(),
    settlement_total_minor: totals.settlement.toString(),
    fx_total_minor: totals.fx.toString(),
    fx_currency: {
      currency: bench_fx_currency,
      converted_source_minor: converted.source.toString(),
      converted_target_minor: converted.target.toString(),
      customer_total_minor: fxTotals.customer.toString(),
      fx_total_minor: fxTotals.fx.toString(),
      off_rate: converted.off_rate,
    },
    funded_total_minor: funded_total_minor.toString(),
    unbalanced_databases: unbalanced,
    drifted_accounts: drifted,
    transfers_recorded: recorded,
    transfers_not_final: open,
    conserved:
      unbalanced.length === 0 &&
      drifted === 0 &&
      totals.customer + totals.clearing + totals.fx === funded_total_minor &&
      -totals.settlement === funded_total_minor &&
      fxConserved(totals.fx, fxTotals, converted),
    all_final: open === 0 && totals.clearing === 0n,
  };
}

/**
 * The completed conversions whose record this database holds (a conversions row is also written
 * beside the credit on the recipient's shard; joining the record counts each once). USD and EUR
 * both have two minor digits, so the target is floor(source × rate).
 */
async function convertedOn(client: pg.Client): Promise<{ source: bigint; target: bigint; off_rate: number }> {
  const found = await client.query<{ source: string; target: string; off_rate: number }>(
    `select coalesce(sum(c.source_amount), 0)::text as source, coalesce(sum(c.target_amount), 0)::text as target,
            (count(*) filter (where c.target_amount <> floor(c.source_amount * c.rate)))::int as off_rate
       from conversions c join transfers t using (transfer_id)
      where t.status = 'COMPLETED' and c.source_currency = $1::char(3) and c.target_currency = $2::char(3)`,
    [bench_currency, bench_fx_currency],
  );
  const row = found.rows[0]!;
  return { source: BigInt(row.source), target: BigInt(row.target), off_rate: row.off_rate };
}

/** Conversions at their recorded rates: the FX houses hold the source paid in, owe the target paid out, and customers hold it. */
function fxConserved(
  housesInBenchCurrency: bigint,
  inFxCurrency: Record<'customer' | 'clearing' | 'settlement' | 'fx', bigint>,
  converted: { source: bigint; target: bigint; off_rate: number },
): boolean {
  return (
    housesInBenchCurrency === converted.source &&
    inFxCurrency.customer === converted.target &&
    -inFxCurrency.fx === converted.target &&
    inFxCurrency.clearing === 0n &&
    inFxCurrency.settlement === 0n &&
    converted.off_rate === 0
  );
}
