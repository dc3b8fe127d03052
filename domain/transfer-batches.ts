import { createHash } from 'node:crypto';

/** The most items one batch may carry: a payroll file of a thousand salaries. */
export const batch_items_max = 1_000;

/** One item of a batch, as the client asked for it: an ordinary transfer from the batch's payer. */
export interface BatchItem {
  toUserId: string;
  amountMinor: bigint;
  note: string | null;
  idempotencyKey: string;
}

/** A batch as the client asked for it: one payer, one currency, 1..batch_items_max items. */
export interface BatchRequest {
  payerUserId: string;
  currency: string;
  idempotencyKey: string;
  items: BatchItem[];
}

/**
 * Batch id: a deterministic function of (payer, batch key), as transferIdFor is for transfers,
 * so a retried request finds the same batch and its workflow. Its own prefix keeps it apart from
 * transfer ids (it is also the batch workflow's id).
 */
export function batchIdFor(payerUserId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`batch\u0000${payerUserId}\u0000${idempotencyKey}`, 'utf8');
  return `tb_${digest.digest('hex').slice(0, 32)}`;
}

/** Fingerprint of the whole request, items in their order: the same key with another body is refused. */
export function batchRequestHashOf(batch: BatchRequest): string {
  const canonical = JSON.stringify([
    batch.payerUserId,
    batch.currency,
    batch.items.map((item) => [item.toUserId, item.amountMinor.toString(), item.note, item.idempotencyKey]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** The sum the batch moves, checked whole against the payer's daily outgoing limit before any item starts. */
export function batchTotalOf(items: readonly Pick<BatchItem, 'amountMinor'>[]): bigint {
  return items.reduce((total, item) => total + item.amountMinor, 0n);
}
