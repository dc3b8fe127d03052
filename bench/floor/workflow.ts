import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { TransferStatusKey } from '../../workflows/search-attributes';
import type { FloorActivities } from './activities';

export interface FloorWorkflowInput {
  floorId: string;
  /** The transfer's payload, carried so the floor's history events are the size of a transfer's. */
  request: { fromUserId: string; toUserId: string; amountMinor: string; currency: string };
}

/**
 * The engine's floor: a workflow of the transfer's shape (two local activities, the status
 * search attribute set at the end, then return) whose activities do nothing. What a transfer
 * costs beyond this is the wallet's own work: the API, the ledger and PostgreSQL.
 */
export async function floorWorkflow(input: FloorWorkflowInput): Promise<{ status: 'COMPLETED' }> {
  // The transfer's leg timeout; a no-op that fails is a bug in the floor, so few attempts.
  const { floorDebit, floorCredit } = proxyLocalActivities<FloorActivities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3 },
  });
  await floorDebit(input.floorId);
  await floorCredit(input.floorId);
  upsertSearchAttributes([{ key: TransferStatusKey, value: 'COMPLETED' }]);
  return { status: 'COMPLETED' };
}
