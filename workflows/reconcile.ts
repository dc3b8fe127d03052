import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities, ReconcileSummary } from '../activities/reconcile';

/**
 * A run reads every shard's whole ledger; on a big shard that takes minutes. The activity does
 * not heartbeat (its work is a few long statements), so a worker that dies mid-run is noticed
 * only after this; the schedule skips its next runs meanwhile (overlap SKIP).
 */
const reconcile_timeout_ms = 15 * 60_000;

/**
 * A failed run (a shard unreachable) is retried a few times; past that the run fails, visible in
 * the Web UI, the last-run gauge falls behind, and the next scheduled run tries afresh.
 */
const reconcile_options = {
  startToCloseTimeout: reconcile_timeout_ms,
  retry: {
    initialInterval: 5_000,
    backoffCoefficient: 2,
    maximumInterval: 60_000,
    maximumAttempts: 4,
  },
};

/** Started by the `wallet-reconciliation` Schedule (workers/reconcile-schedule.ts), or by hand. */
export async function reconcileWorkflow(): Promise<ReconcileSummary> {
  const { reconcileLedgers } = proxyActivities<ReconcileActivities>(reconcile_options);
  return reconcileLedgers();
}
