import { createHash } from 'node:crypto';
import type { TransferKind, TransferRequest } from './transfers';

/**
 * Transfer id = workflow id: a deterministic function of (kind, owner, idempotency key), so a
 * retried request finds the same workflow, and after Temporal forgets it, the same ledger row.
 */
export function transferIdFor(kind: TransferKind, ownerUserId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${kind}\u0000${ownerUserId}\u0000${idempotencyKey}`, 'utf8');
  return `tr_${digest.digest('hex').slice(0, 32)}`;
}

/** Fingerprint of what the client asked for; the same key with another body is refused. */
export function requestHashOf(request: Omit<TransferRequest, 'transferId'>): string {
  const canonical = JSON.stringify([
    request.kind,
    request.fromUserId,
    request.toUserId,
    request.amountMinor,
    request.currency,
    request.note,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
