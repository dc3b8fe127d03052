import type { Registry } from 'prom-client';
import type { ShardSet } from '../db/shards';
import type { SettlementGauges } from '../activities/settlement-reconcile';
import { reference_shard } from '../domain/shard-routing';
import { latestSettlementRunSummary, type SettlementRunSummary } from '../ledger/settlement-runs';
import { latestRunGauges, type LatestRun } from './latest-run-gauges';

/**
 * The settlement reconciliation gauges of a registry (metrics/latest-run-gauges.ts). Given
 * shards, every scrape reads the latest run of any day from the reference shard.
 */
export function settlementGauges(registry: Registry, shards?: ShardSet): SettlementGauges {
  const gauges = latestRunGauges(registry, {
    ok: 'wallet_settlement_ok',
    okHelp: "Whether the latest settlement reconciliation matched the bank's statement with no break (1) or not (0)",
    problems: 'wallet_settlement_breaks',
    problemsHelp: 'Breaks (missing on either side, amount mismatches) the latest settlement reconciliation found',
    lastRun: 'wallet_settlement_last_run_timestamp_seconds',
    lastRunHelp:
      'When the latest settlement reconciliation finished, in Unix seconds (0: none yet); alert when it falls behind SETTLEMENT_RECONCILE_EVERY',
  });
  if (shards) gauges.readFrom(async () => latestOf(await latestSettlementRunSummary(shards.pool(reference_shard))));
  return { record: (run) => gauges.record(latestOf(run)!) };
}

function latestOf(run: SettlementRunSummary | undefined): LatestRun | undefined {
  return run && { ok: run.ok, problems: run.breakCount, finishedAt: run.finishedAt };
}
