import { createHash } from 'node:crypto';

/**
 * Payout id = workflow id: a digest of (owner, idempotency key), as transfer ids are, so a retried
 * request finds the same payout. The `po_` prefix keeps it apart from transfer ids: both key
 * postings in the same ledger.
 */
export function payoutIdFor(userId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`payout\u0000${userId}\u0000${idempotencyKey}`, 'utf8');
  return `po_${digest.digest('hex').slice(0, 32)}`;
}

/** Fingerprint of what the client asked for; the same key with another body is refused (422 idempotency_key_reused). */
export function payoutRequestHashOf(request: { bankAccountId: string; amountMinor: bigint; currency: string }): string {
  const canonical = JSON.stringify([request.bankAccountId, request.amountMinor.toString(), request.currency]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
