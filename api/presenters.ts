import type { LegRecord } from '../ledger/postings';
import type { TransferRecord } from '../ledger/transfers';

export function transferJson(record: TransferRecord) {
  return {
    transfer_id: record.transferId,
    kind: record.kind,
    status: record.status,
    from_user_id: record.fromUserId,
    to_user_id: record.toUserId,
    amount: record.amountMinor,
    currency: record.currency,
    ...(record.note !== null ? { note: record.note } : {}),
    ...(record.failureReason !== null ? { failure_reason: record.failureReason } : {}),
    created_at: record.createdAt.toISOString(),
    ...(record.completedAt !== null ? { completed_at: record.completedAt.toISOString() } : {}),
    ...(record.reversal !== null
      ? { reversal: { reversed_at: record.reversal.at.toISOString(), reversed_by: record.reversal.by, reason: record.reversal.reason, allow_negative: record.reversal.forced } }
      : {}),
    ...(record.reversalRefusedReason !== null && record.reversal === null ? { reversal_refused_reason: record.reversalRefusedReason } : {}),
  };
}

/** Each leg's outcome as the ledger recorded it: posted, refused (with the reason) or voided. */
export function legsJson(legs: LegRecord[]) {
  return legs.map((leg) => ({
    leg: leg.leg,
    outcome: leg.outcome,
    ...(leg.reason !== null ? { reason: leg.reason } : {}),
    decided_at: leg.createdAt.toISOString(),
  }));
}

export function acceptedJson(record: TransferRecord) {
  return { transfer_id: record.transferId, status: record.status, created_at: record.createdAt.toISOString() };
}
