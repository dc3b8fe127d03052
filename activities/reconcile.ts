import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { withDedicatedConnections } from '../db/dedicated-connections';
import type { ShardSet } from '../db/shards';
import { reconcileShards } from '../ledger/reconciliation';
import { reference_shard } from '../domain/shard-routing';
import { insertRun, storedJson, type RunSummary } from '../ledger/reconciliation-runs';

/**
 * Each statement of a run may take this long: a run scans every shard's entries, which takes
 * far longer than a ledger leg's statement cap on a big shard.
 */
const reconcile_statement_timeout_ms = 300_000;

/** Where a run's outcome is shown at once (metrics/reconciliation-metrics.ts when the process exports metrics). */
export interface ReconciliationGauges {
  record(run: RunSummary): void;
}

export interface ReconcileDependencies {
  shards: ShardSet;
  logger: Logger;
  /** Given when this process exports metrics. */
  gauges?: ReconciliationGauges;
}

/** What the workflow gets back; the report itself is in the table (reconciliation_runs on the reference shard). */
export interface ReconcileSummary {
  runId: string;
  ok: boolean;
  discrepancyCount: number;
}

export function createReconcileActivities(deps: ReconcileDependencies) {
  return {
    /**
     * Checks every shard's ledger (ledger/reconciliation.ts), records the run on the reference shard, and
     * makes every discrepancy loud: one error line each, and the gauges. A regular activity, not
     * a local one: a run can outlast a workflow task by far. Reads go through their own
     * connections, so a run never takes a pooled connection a ledger leg is waiting for.
     */
    async reconcileLedgers(): Promise<ReconcileSummary> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? null;
      const startedAt = new Date();
      const report = await withDedicatedConnections(
        deps.shards.urls,
        { applicationName: 'wallet-reconcile', statementTimeoutMs: reconcile_statement_timeout_ms },
        (connections) => reconcileShards(connections),
      );
      const run = await insertRun(deps.shards.pool(reference_shard), {
        startedAt,
        finishedAt: new Date(),
        report,
        workflowId,
      });
      deps.gauges?.record(run);

      const log = deps.logger.child({ reconciliation_run_id: run.runId.toString(), workflow_id: workflowId });
      // Amounts in log lines as decimal strings, like the stored report.
      const listed: { discrepancies: Record<string, unknown>[] } = JSON.parse(storedJson(report));
      for (const discrepancy of listed.discrepancies) log.error({ discrepancy }, 'reconciliation discrepancy');
      if (report.ok) log.info({ shards: report.shards }, 'reconciliation found the ledger consistent');
      else
        log.error(
          { discrepancy_count: report.discrepancy_count, listed: listed.discrepancies.length },
          'reconciliation found discrepancies',
        );
      return { runId: run.runId.toString(), ok: report.ok, discrepancyCount: report.discrepancy_count };
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
