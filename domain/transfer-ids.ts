import { createHash } from 'node:crypto';
import type { Transfer, TransferKind } from './transfers';

/**
 * Transfer id = workflow id: a deterministic function of (kind, owner, idempotency key), so a
 * retried request finds the same workflow, and after Temporal forgets it, the same ledger row.
 */
export function transferIdFor(kind: TransferKind, ownerUserId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${kind}\u0000${ownerUserId}\u0000${idempotencyKey}`, 'utf8');
  return `tr_${digest.digest('hex').slice(0, 32)}`;
}

/**
 * Fingerprint of what the client asked for; the same key with another body is refused. A
 * conversion adds what the client chose (the target currency, the quote), never the rate it got:
 * same-currency requests keep the fingerprints they always had.
 */
export function requestHashOf(
  request: Omit<Transfer, 'transferId' | 'conversion'>,
  target?: { currency: string; quoteId: string | null },
): string {
  const canonical = JSON.stringify([
    request.kind,
    request.fromUserId,
    request.toUserId,
    // As a decimal string, as fingerprints were first taken: a stored hash must keep matching its retry.
    request.amountMinor.toString(),
    request.currency,
    request.note,
    ...(target ? [target.currency, target.quoteId] : []),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
