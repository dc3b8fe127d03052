import type { ShardSet } from '../../db/shards';
import { balanceMismatches, balanceTotals } from '../../ledger/balance-checks';

/** Sums of every account kind per currency over all shards: the conservation check. */
export async function ledgerTotals(shards: ShardSet, currency: string) {
  const totals = { customer: 0n, clearing: 0n, settlement: 0n, fx: 0n, payouts_in_flight: 0n };
  for (const pool of shards.pools) {
    for (const row of await balanceTotals(pool)) if (row.currency === currency) totals[row.kind] += row.totalMinor;
  }
  return totals;
}

/** More drifted accounts than this fail a test all the same; the list is only there to read. */
const drifted_listed_max = 100;

/** Every account's materialized balance must equal the sum of its entries (the read model never drifts). */
export async function driftedAccounts(shards: ShardSet): Promise<string[]> {
  const drifted: string[] = [];
  for (const pool of shards.pools) {
    drifted.push(...(await balanceMismatches(pool, drifted_listed_max)).rows.map((row) => row.accountId));
  }
  return drifted;
}

export async function postingsOf(shards: ShardSet, transferId: string) {
  const found: { leg: string; outcome: string; entries: number }[] = [];
  for (const pool of shards.pools) {
    const rows = await pool.query<{ leg: string; outcome: string; entries: string }>(
      `select p.leg, p.outcome, (select count(*) from entries e where e.transfer_id = p.transfer_id and e.leg = p.leg)::text as entries
         from postings p where p.transfer_id = $1 order by p.leg`,
      [transferId],
    );
    found.push(...rows.rows.map((row) => ({ leg: row.leg, outcome: row.outcome, entries: Number(row.entries) })));
  }
  return found.sort((a, b) => a.leg.localeCompare(b.leg));
}

/** User ids that land on the requested shards, so tests choose same-shard or cross-shard pairs on purpose. */
export function userOnShard(shards: ShardSet, shard: number, prefix: string): string {
  for (let index = 0; index < 10_000; index++) {
    const userId = `${prefix}_${index}_${Math.random().toString(36).slice(2, 8)}`;
    if (shards.shardOf(userId) === shard) return userId;
  }
  throw new Error(`no user id found for shard ${shard}`);
}

/** Every row of every table on every shard, as JSON text, in a stable order. */
export async function snapshotShards(shards: ShardSet): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const [shard, pool] of shards.pools.entries()) {
    const tables = await pool.query<{ tablename: string }>(
      `select tablename from pg_tables where schemaname = 'public' order by tablename`,
    );
    for (const { tablename } of tables.rows) {
      const rows = await pool.query<{ row: string }>(
        `select to_jsonb(t)::text as row from ${JSON.stringify(tablename)} t order by 1`,
      );
      snapshot[`${shard}.${tablename}`] = rows.rows.map((line) => line.row);
    }
  }
  return snapshot;
}
