import type pg from 'pg';
import {
  confirmSuspects,
  readClearingSnapshot,
  type ClearingSnapshot,
  type ConfirmedSuspects,
} from './clearing-in-flight';
import { balanceMismatches, balanceTotals, openHoldTotals, type KindTotalRow } from './balance-checks';
import { chainBreaksAfter, unbalancedPostings, type Capped } from './reconciliation-reads';
import { reference_shard } from '../domain/shard-routing';
import type { ChainProgress, CurrencyTotals, Discrepancy, ReconciliationReport } from './reconciliation-report';
import { latestChainProgress } from './reconciliation-runs';

/**
 * Reconciliation: the ledger's invariants, checked against the data itself.
 *  (a) each account's balance equals the sum of its entries;
 *  (b) every posting (transfer_id, leg) sums to zero per currency;
 *  (c) per currency, the balances of each shard sum to zero (every posting balances on its own,
 *      so this holds per shard at every instant), and so do those of all shards together;
 *  (d) clearing holds only money in flight (ledger/clearing-in-flight.ts), and per currency the
 *      clearing balances add up to the nets of the transfers in flight;
 *  (f) per shard and currency, payouts_in_flight holds exactly the open payout holds
 *      (ledger/payout-holds.ts); (a) to (c) count the account like every other;
 *  (e) the hash chain (migrations/1763769600009_ledger-chain.sql) holds for the entries written
 *      since the last run, and for a bounded slice of older ones that moves on every run, so
 *      every entry is checked again now and then. The full walk is `npm run ledger -- verify`;
 *      an old entry whose amount changed also shows in (a) at once.
 * Each shard is read in one REPEATABLE READ read-only transaction, so (a) to (c) see one moment
 * of it. Discrepancies are a fixed list of kinds; a report lists at most
 * discrepancies_listed_max of them and counts them all.
 */

export const discrepancies_listed_max = 100;
/** New entries one run checks per shard; more wait for the next run (the cursor only moves past what was checked). */
const chain_new_entries_max = 200_000;
/** Older entries one run checks again per shard, from where the last run stopped, starting over at the end. */
const chain_sweep_entries_max = 50_000;
/**
 * An entry posted this long before a run's snapshot has committed, if it ever will: a leg is
 * one statement, capped by statement_timeout (half ACTIVITY_TIMEOUT_MS). Newer ones are checked
 * again by the next run, so an entry that commits below an id already seen is not skipped.
 */
const chain_settle_ms = 60_000;

/** Every kind, each once: a fixed list clients can handle case by case, like the API's error codes. */
const kinds: Record<Discrepancy['kind'], true> = {
  balance_mismatch: true,
  posting_unbalanced: true,
  shard_sum_nonzero: true,
  currency_sum_nonzero: true,
  clearing_not_in_flight: true,
  clearing_unexplained: true,
  clearing_total_mismatch: true,
  payouts_in_flight_mismatch: true,
  chain_broken: true,
};
export const discrepancy_kinds = Object.keys(kinds) as [Discrepancy['kind'], ...Discrepancy['kind'][]];

/** The bigint fields of a report's lines: the ones the stored report keeps as decimal strings. */
type AmountField<T> = T extends unknown ? { [K in keyof T]: T[K] extends bigint ? K : never }[keyof T] : never;
const amount_fields: Record<AmountField<Discrepancy | CurrencyTotals>, true> = {
  stored: true,
  computed: true,
  sum: true,
  net: true,
  clearing: true,
  in_flight: true,
  customer: true,
  settlement: true,
  fx: true,
  payouts_in_flight: true,
};
export const report_amount_fields: ReadonlySet<string> = new Set(Object.keys(amount_fields));

interface ShardSnapshot {
  mismatches: Capped<Discrepancy>;
  unbalanced: Capped<Discrepancy>;
  chainBreaks: Capped<Discrepancy>;
  heldMismatches: Discrepancy[];
  chain: ChainProgress;
  totals: KindTotalRow[];
}

/** Runs every check over the shards, given one open connection per shard in shard order. */
export async function reconcileShards(connections: readonly pg.ClientBase[]): Promise<ReconciliationReport> {
  const previous = await latestChainProgress(connections[reference_shard]!);
  const { shards, clearing } = await inSnapshots(connections, async (snapshots) => ({
    shards: await Promise.all(
      snapshots.map((client, shard) =>
        readShard(
          client,
          shard,
          previous.find((line) => line.shard === shard),
        ),
      ),
    ),
    clearing: await readClearingSnapshot(snapshots),
  }));
  const suspects = await confirmSuspects(connections, clearing.suspects);
  const currencies = currencyTotals(shards, clearing, suspects);

  const found: Capped<Discrepancy>[] = [
    ...shards.map((shard) => shard.mismatches),
    ...shards.map((shard) => shard.unbalanced),
    ...shards.map((shard) => shard.chainBreaks),
    ...shards.map((shard) => all(shard.heldMismatches)),
    all(sumDiscrepancies(shards)),
    all(
      suspects.confirmed.map((net) => ({
        kind: 'clearing_not_in_flight',
        transfer_id: net.transferId,
        currency: net.currency,
        net: net.netMinor,
        status: net.status,
      })),
    ),
    all(
      clearing.unexplained.map((line) => ({
        kind: 'clearing_unexplained',
        currency: line.currency,
        net: line.netMinor,
        buckets: line.buckets,
      })),
    ),
    all(
      currencies
        .filter((line) => line.clearing !== line.in_flight)
        .map((line) => ({
          kind: 'clearing_total_mismatch',
          currency: line.currency,
          clearing: line.clearing,
          in_flight: line.in_flight,
        })),
    ),
  ];
  const count = found.reduce((sum, check) => sum + check.total, 0);
  return {
    ok: count === 0,
    shards: connections.length,
    discrepancy_count: count,
    discrepancies: found.flatMap((check) => check.rows).slice(0, discrepancies_listed_max),
    currencies,
    chain: shards.map((shard) => shard.chain),
  };
}

/** Opens a REPEATABLE READ read-only transaction on every shard, runs the reads, and ends them all. */
async function inSnapshots<T>(
  connections: readonly pg.ClientBase[],
  read: (snapshots: readonly pg.ClientBase[]) => Promise<T>,
): Promise<T> {
  await Promise.all(
    connections.map((client) => client.query('begin transaction isolation level repeatable read, read only')),
  );
  try {
    return await read(connections);
  } finally {
    // Read only: nothing to keep, so a rollback ends each one whatever happened.
    await Promise.all(connections.map((client) => client.query('rollback').catch(() => undefined)));
  }
}

async function readShard(
  client: pg.ClientBase,
  shard: number,
  previous: { checked_through: string; swept_through: string } | undefined,
): Promise<ShardSnapshot> {
  // One connection per shard runs one statement at a time, so these go one after another.
  const mismatches = await balanceMismatches(client, discrepancies_listed_max);
  const unbalanced = await unbalancedPostings(client, discrepancies_listed_max);
  const totals = await balanceTotals(client);
  const held = await openHoldTotals(client);
  const { chainBreaks, chain } = await checkChain(client, shard, previous);
  return {
    chainBreaks,
    heldMismatches: held
      .filter((line) => line.accountMinor !== line.openHoldsMinor)
      .map((line) => ({
        kind: 'payouts_in_flight_mismatch',
        shard,
        currency: line.currency,
        stored: line.accountMinor,
        computed: line.openHoldsMinor,
      })),
    chain,
    mismatches: {
      total: mismatches.total,
      rows: mismatches.rows.map((row) => ({
        kind: 'balance_mismatch',
        shard,
        account_id: row.accountId,
        currency: row.currency,
        stored: row.storedMinor,
        computed: row.computedMinor,
      })),
    },
    unbalanced: {
      total: unbalanced.total,
      rows: unbalanced.rows.map((row) => ({
        kind: 'posting_unbalanced',
        shard,
        transfer_id: row.transferId,
        leg: row.leg,
        currency: row.currency,
        sum: row.sumMinor,
      })),
    },
    totals,
  };
}

/**
 * (e): the entries written since the last run checked (new), and older ones checked again (the
 * sweep): two disjoint id ranges, so no entry is counted twice.
 */
async function checkChain(
  client: pg.ClientBase,
  shard: number,
  previous: { checked_through: string; swept_through: string } | undefined,
): Promise<{ chainBreaks: Capped<Discrepancy>; chain: ChainProgress }> {
  const checkedThrough = BigInt(previous?.checked_through ?? 0);
  const sweptThrough = BigInt(previous?.swept_through ?? 0);
  const listedMax = discrepancies_listed_max;
  const fresh = await chainBreaksAfter(client, {
    afterEntryId: checkedThrough,
    limit: chain_new_entries_max,
    settleMs: chain_settle_ms,
    listedMax,
  });
  const swept = await chainBreaksAfter(client, {
    afterEntryId: sweptThrough,
    throughEntryId: checkedThrough,
    limit: chain_sweep_entries_max,
    settleMs: 0,
    listedMax,
  });
  const rows = [...swept.breaks.rows, ...fresh.breaks.rows].map((row): Discrepancy => ({
    kind: 'chain_broken',
    shard,
    entry_id: row.entryId.toString(),
    account_id: row.accountId,
    currency: row.currency,
    problem: row.problem,
  }));
  return {
    chainBreaks: { rows, total: swept.breaks.total + fresh.breaks.total },
    chain: {
      shard,
      checked_through: fresh.settledThrough ?? checkedThrough,
      // A sweep that read less than its limit reached the checked entries: the next one starts over.
      swept_through: swept.checked < chain_sweep_entries_max ? 0n : swept.lastEntryId!,
      entries_checked: fresh.checked + swept.checked,
    },
  };
}

/** (c): per shard and currency, then per currency over all shards. */
function sumDiscrepancies(shards: ShardSnapshot[]): Discrepancy[] {
  const found: Discrepancy[] = [];
  const overall = new Map<string, bigint>();
  for (const [shard, snapshot] of shards.entries()) {
    const perCurrency = new Map<string, bigint>();
    for (const row of snapshot.totals)
      perCurrency.set(row.currency, (perCurrency.get(row.currency) ?? 0n) + row.totalMinor);
    for (const [currency, sum] of perCurrency) {
      if (sum !== 0n) found.push({ kind: 'shard_sum_nonzero', shard, currency, sum });
      overall.set(currency, (overall.get(currency) ?? 0n) + sum);
    }
  }
  for (const [currency, sum] of overall) if (sum !== 0n) found.push({ kind: 'currency_sum_nonzero', currency, sum });
  return found;
}

/**
 * Balances per currency and kind over all shards, and the money in flight: the pending
 * transfers' nets and the nets of suspects a re-read found in order, all as of the snapshots.
 */
function currencyTotals(
  shards: ShardSnapshot[],
  clearing: ClearingSnapshot,
  suspects: ConfirmedSuspects,
): CurrencyTotals[] {
  const lines = new Map<string, CurrencyTotals>();
  const line = (currency: string) => {
    let found = lines.get(currency);
    if (!found)
      lines.set(
        currency,
        (found = {
          currency,
          customer: 0n,
          clearing: 0n,
          settlement: 0n,
          fx: 0n,
          payouts_in_flight: 0n,
          in_flight: 0n,
          in_flight_transfers: 0,
        }),
      );
    return found;
  };
  for (const row of shards.flatMap((shard) => shard.totals)) line(row.currency)[row.kind] += row.totalMinor;
  for (const net of [...clearing.pending, ...suspects.cleared]) {
    line(net.currency).in_flight += net.netMinor;
    line(net.currency).in_flight_transfers += 1;
  }
  return [...lines.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

function all(rows: Discrepancy[]): Capped<Discrepancy> {
  return { rows, total: rows.length };
}
