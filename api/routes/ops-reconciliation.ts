import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { report_amount_fields } from '../../ledger/reconciliation';
import { reference_shard } from '../../domain/shard-routing';
import { latestRun } from '../../ledger/reconciliation-runs';
import { requireOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';

/** The latest reconciliation run (workers/reconcile-schedule.ts runs them), as recorded on the reference shard. */
export function opsReconciliationRoutes(shards: ShardSet): Router {
  const router = Router();

  router.get('/v1/ops/reconciliation', async (request, response) => {
    requireOps(request);
    const run = await latestRun(shards.pool(reference_shard));
    if (!run)
      throw new ApiError(
        'reconciliation_not_run',
        'no reconciliation has run yet; the wallet-reconciliation schedule runs one every RECONCILE_EVERY_MS',
      );
    sendJson(response, 200, {
      run_id: run.runId.toString(),
      started_at: run.startedAt.toISOString(),
      finished_at: run.finishedAt.toISOString(),
      ok: run.ok,
      discrepancy_count: run.discrepancyCount,
      workflow_id: run.workflowId,
      discrepancies: run.report.discrepancies.map(withIntegerAmounts),
      // Reports stored before payouts existed have no payouts_in_flight line: nothing was held then.
      currencies: run.report.currencies.map((line) => withIntegerAmounts({ payouts_in_flight: '0', ...line })),
    });
  });

  return router;
}

/** The report stores amounts as decimal strings; the API answers amounts as exact JSON integers. */
function withIntegerAmounts(line: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(line).map(([key, value]) => [
      key,
      report_amount_fields.has(key) && typeof value === 'string' ? BigInt(value) : value,
    ]),
  );
}
