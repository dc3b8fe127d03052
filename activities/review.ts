import { ApplicationFailure } from '@temporalio/activity';
import type { TransferKind, TransferStatus } from '../domain/transfers';
import { ReviewStateConflict, expireReviewRecord, recordReviewDecision, type ReviewDecision } from '../ledger/reviews';
import { currentExecution, legLogger } from './leg-context';
import type { ActivityDependencies } from './types';

export interface ReviewDecisionInput extends ReviewDecision {
  ownerUserId: string;
  kind: TransferKind;
}

/** Writes an operator's review decision on the record and in the audit; a rejection ends the transfer. */
export async function recordDecision(
  deps: ActivityDependencies,
  input: ReviewDecisionInput,
): Promise<{ status: TransferStatus }> {
  const { ownerUserId, kind, ...decision } = input;
  try {
    const status = await recordReviewDecision(deps.shards.pool(deps.shards.shardOf(ownerUserId)), {
      ...decision,
      runId: currentExecution().runId,
    });
    legLogger(deps, input.transferId).info(
      { decision: input.decision, operator: input.operator, releases: input.releases },
      'review decision recorded',
    );
    if (input.decision === 'reject') reportFinished(deps, input.transferId, kind, 'review_rejected');
    return { status };
  } catch (error) {
    if (!(error instanceof ReviewStateConflict)) throw error;
    throw ApplicationFailure.create({ type: 'transfer_state_conflict', message: error.message, nonRetryable: true });
  }
}

/** Nobody decided within the review timeout: the held transfer ends FAILED (review_timeout); nothing moved. */
export async function expireReview(
  deps: ActivityDependencies,
  input: { transferId: string; ownerUserId: string; kind: TransferKind },
): Promise<void> {
  try {
    await expireReviewRecord(deps.shards.pool(deps.shards.shardOf(input.ownerUserId)), input.transferId);
  } catch (error) {
    if (!(error instanceof ReviewStateConflict)) throw error;
    throw ApplicationFailure.create({ type: 'transfer_state_conflict', message: error.message, nonRetryable: true });
  }
  legLogger(deps, input.transferId).warn('review timed out');
  reportFinished(deps, input.transferId, input.kind, 'review_timeout');
}

function reportFinished(
  deps: ActivityDependencies,
  transferId: string,
  kind: TransferKind,
  failureReason: 'review_rejected' | 'review_timeout',
): void {
  deps.completions?.finished(transferId);
  deps.events?.finished({ transferId, kind, status: 'FAILED', failureReason });
}
