import { recordOpsAction } from '../ledger/audit';
import { legLogger } from './leg-context';
import type { ActivityDependencies } from './types';

/** An operator's `retry` of a transfer's step that had failed for good (the transfer was NEEDS_ATTENTION). */
export interface RetryRecord {
  transferId: string;
  ownerUserId: string;
  operator: string;
  reason: string;
  via: 'signal' | 'update';
  /** The workflow's step and the ledger activity that failed. */
  step: string;
  activity: string;
  /** Which retry of this transfer this is (1, 2, ...): keys the audit row, so a rerun writes it once. */
  retry: number;
}

/** Audits the retry on the owner's shard before the step runs again. */
export async function recordRetry(deps: ActivityDependencies, input: RetryRecord): Promise<void> {
  await recordOpsAction(deps.shards.pool(deps.shards.shardOf(input.ownerUserId)), {
    operator: input.operator,
    action: 'retry',
    targetType: 'transfer',
    targetId: input.transferId,
    reason: input.reason,
    via: input.via,
    details: { step: input.step, activity: input.activity, retry: input.retry },
    dedupeKey: `retry:${input.transferId}:${input.retry}`,
  });
  legLogger(deps, input.transferId).warn(
    { operator: input.operator, step: input.step, activity: input.activity, retry: input.retry },
    'step retried by an operator',
  );
}
