import { Gauge, type Registry } from 'prom-client';
import type { ShardSet } from '../db/shards';
import type { ReconciliationGauges } from '../activities/reconcile';
import { reference_shard } from '../domain/shard-routing';
import { latestRunSummary } from '../ledger/reconciliation-runs';

const gauges_by_registry = new WeakMap<Registry, { gauges: ReconciliationGauges; read: { shards?: ShardSet } }>();

/**
 * The reconciliation gauges of a registry, made once per registry (the API and the worker of
 * one process share one). Given shards, every scrape reads the latest run from the reference shard's
 * table, so every process shows the same latest run whichever worker ran it (a worker records
 * its own runs at once too). The last shards given are the ones read. Before the first run the
 * gauges read 0, and the timestamp 0 says there was none.
 */
export function reconciliationGauges(registry: Registry, shards?: ShardSet): ReconciliationGauges {
  let made = gauges_by_registry.get(registry);
  if (!made) {
    made = makeGauges(registry);
    gauges_by_registry.set(registry, made);
  }
  if (shards) made.read.shards = shards;
  return made.gauges;
}

function makeGauges(registry: Registry) {
  const read: { shards?: ShardSet } = {};
  // One read per scrape, shared by the three gauges, which prom-client collects together.
  let reading: Promise<void> | undefined;
  const refresh = async () => {
    const shards = read.shards;
    if (!shards) return;
    reading ??= latestRunSummary(shards.pool(reference_shard))
      .then((run) => (run ? gauges.record(run) : undefined))
      // A scrape must not fail because the reference shard is down: the gauges keep their last values.
      .catch(() => undefined)
      .finally(() => (reading = undefined));
    await reading;
  };
  const registers = [registry];
  const ok = new Gauge({
    name: 'wallet_reconciliation_ok',
    help: 'Whether the latest reconciliation run found no discrepancy (1) or some (0)',
    registers,
    collect: refresh,
  });
  const discrepancies = new Gauge({
    name: 'wallet_reconciliation_discrepancies',
    help: 'Discrepancies the latest reconciliation run found',
    registers,
    collect: refresh,
  });
  const lastRun = new Gauge({
    name: 'wallet_reconciliation_last_run_timestamp_seconds',
    help: 'When the latest reconciliation run finished, in Unix seconds (0: none yet); alert when it falls behind RECONCILE_EVERY_MS',
    registers,
    collect: refresh,
  });
  const gauges: ReconciliationGauges = {
    record(run) {
      ok.set(run.ok ? 1 : 0);
      discrepancies.set(run.discrepancyCount);
      lastRun.set(run.finishedAt.getTime() / 1000);
    },
  };
  return { gauges, read };
}
