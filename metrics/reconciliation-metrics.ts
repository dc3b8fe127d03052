import type { Registry } from 'prom-client';
import type { ShardSet } from '../db/shards';
import type { ReconciliationGauges } from '../activities/reconcile';
import { reference_shard } from '../domain/shard-routing';
import { latestRunSummary, type RunSummary } from '../ledger/reconciliation-runs';
import { latestRunGauges, type LatestRun } from './latest-run-gauges';

/**
 * The reconciliation gauges of a registry (metrics/latest-run-gauges.ts). Given shards, every
 * scrape reads the latest run from the reference shard's reconciliation_runs.
 */
export function reconciliationGauges(registry: Registry, shards?: ShardSet): ReconciliationGauges {
  const gauges = latestRunGauges(registry, {
    ok: 'wallet_reconciliation_ok',
    okHelp: 'Whether the latest reconciliation run found no discrepancy (1) or some (0)',
    problems: 'wallet_reconciliation_discrepancies',
    problemsHelp: 'Discrepancies the latest reconciliation run found',
    lastRun: 'wallet_reconciliation_last_run_timestamp_seconds',
    lastRunHelp:
      'When the latest reconciliation run finished, in Unix seconds (0: none yet); alert when it falls behind RECONCILE_EVERY_MS',
  });
  if (shards) gauges.readFrom(async () => latestOf(await latestRunSummary(shards.pool(reference_shard))));
  return { record: (run) => gauges.record(latestOf(run)!) };
}

function latestOf(run: RunSummary | undefined): LatestRun | undefined {
  return run && { ok: run.ok, problems: run.discrepancyCount, finishedAt: run.finishedAt };
}
