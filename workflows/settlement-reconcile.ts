import { proxyActivities } from '@temporalio/workflow';
import type { SettlementActivities, SettlementRunResult } from '../activities/settlement-reconcile';

/**
 * A failed run (the bank or a shard unreachable) is retried a few times; past that it fails,
 * visible in the Web UI, the last-run gauge falls behind, and the next scheduled run tries afresh.
 */
const settlement_options = {
  startToCloseTimeout: 10 * 60_000,
  retry: { initialInterval: 5_000, backoffCoefficient: 2, maximumInterval: 60_000, maximumAttempts: 4 },
};

const day_ms = 86_400_000;

/**
 * Matches the bank's statements against the ledger (activities/settlement-reconcile.ts), one
 * banking day at a time. Started by the `wallet-settlement-reconciliation` Schedule with no
 * dates, it takes yesterday (UTC; final by now) and today so far; `POST /v1/ops/settlement/{date}`
 * starts it for one day. Reads only, so a run may repeat any other.
 */
export async function settlementReconcileWorkflow(dates?: string[]): Promise<SettlementRunResult[]> {
  const { reconcileSettlement } = proxyActivities<SettlementActivities>(settlement_options);
  // Date.now() in a workflow is the time of the task, the same on every replay.
  const days = dates ?? [new Date(Date.now() - day_ms), new Date()].map((day) => day.toISOString().slice(0, 10));
  const results: SettlementRunResult[] = [];
  for (const date of days) results.push(await reconcileSettlement(date));
  return results;
}
