import pg from 'pg';
import { watchConnection } from '../../db/connection-errors';
import { balanceMismatches, balanceTotals } from '../../ledger/balance-checks';
import { bench_currency } from '../targets/http-transfers';

export interface LedgerCheck {
  databases: number;
  /** Sums over all databases, in minor units (decimal strings: bigint does not go in JSON). */
  customer_total_minor: string;
  clearing_total_minor: string;
  settlement_total_minor: string;
  /** What `--fx` transfers left with the FX houses, in the bench currency (they paid it out in another). */
  fx_total_minor: string;
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
  const totals = { customer: 0n, clearing: 0n, settlement: 0n, fx: 0n };
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
    funded_total_minor: funded_total_minor.toString(),
    unbalanced_databases: unbalanced,
    drifted_accounts: drifted,
    transfers_recorded: recorded,
    transfers_not_final: open,
    conserved:
      unbalanced.length === 0 &&
      drifted === 0 &&
      totals.customer + totals.clearing + totals.fx === funded_total_minor &&
      -totals.settlement === funded_total_minor,
    all_final: open === 0 && totals.clearing === 0n,
  };
}
