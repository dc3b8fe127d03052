import type pg from 'pg';
import type { TransferStatus } from '../domain/transfers';

export interface ReviewDecision {
  transferId: string;
  decision: 'approve' | 'reject';
  operator: string;
  reason: string;
  via: 'signal' | 'update';
  /** True for the approval that completes the review: the record goes back to PENDING and the money moves. */
  releases: boolean;
}

/** Keys the audit row: one per decision, operator and workflow run (a rerun's review is a new review). */
export interface DecisionRun {
  runId: string;
}

/**
 * Records a review decision on the owner's record and in the audit, in one transaction (SQL
 * record_review_decision): a rejection ends the transfer FAILED (review_rejected). Keyed by
 * transfer, decision and operator, so a retried activity records it once.
 */
export async function recordReviewDecision(
  client: pg.Pool,
  decision: ReviewDecision & DecisionRun,
): Promise<TransferStatus> {
  try {
    const found = await client.query<{ status: TransferStatus }>(
      `select record_review_decision(p_transfer_id => $1::text, p_decision => $2::text, p_operator => $3::text,
                                     p_reason => $4::text, p_via => $5::text, p_releases => $6::boolean,
                                     p_dedupe_key => $7::text) as status`,
      [
        decision.transferId,
        decision.decision,
        decision.operator,
        decision.reason,
        decision.via,
        decision.releases,
        `${decision.transferId}:${decision.decision}:${decision.operator}:${decision.runId}`,
      ],
    );
    return found.rows[0]!.status;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'WL409') throw new ReviewStateConflict(message ?? 'transfer already final');
    throw error;
  }
}

/** The record was already final in another state when the decision came; nothing changed. */
export class ReviewStateConflict extends Error {
  override name = 'ReviewStateConflict';
}

/** A held transfer nobody decided on fails (review_timeout); only while it is still held (SQL expire_review). */
export async function expireReviewRecord(client: pg.Pool, transferId: string): Promise<void> {
  try {
    await client.query('select expire_review(p_transfer_id => $1::text)', [transferId]);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'WL409') throw new ReviewStateConflict(message ?? 'transfer no longer held');
    throw error;
  }
}
