import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PayoutSignaler } from '../activities/payout-files';

/**
 * How the cutoff and the bank's feed reach a payout's workflow: a signal to the workflow whose id
 * is the payout id. A workflow that has ended answers 'closed' (the caller logs it and moves
 * nothing); any other failure is thrown, and the activity retries.
 */
export function payoutSignaler(client: Client): PayoutSignaler {
  return {
    async signal(payoutId, name, arg) {
      try {
        await client.workflow.getHandle(payoutId).signal(name, ...(arg === undefined ? [] : [arg]));
        return 'delivered';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'closed';
        throw error;
      }
    },
  };
}
