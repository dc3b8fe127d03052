import type pg from 'pg';
import { TransferStateConflict, postLeg, type LegMovement } from './postings';

export type ReversalDebit =
  | { outcome: 'posted'; balanceAfterMinor: bigint; replayed: boolean }
  | { outcome: 'refused'; reason: 'insufficient_funds' };

/**
 * Takes a transfer's money back from its recipient (SQL post_reversal_debit): the leg
 * (transfer_id, 'reversal_debit') posts once. A recipient who cannot cover it is refused without
 * using up the leg's key, so ops can try again with allowNegative, which always posts.
 */
export async function postReversalDebit(
  client: pg.Pool,
  request: LegMovement & { allowNegative: boolean },
): Promise<ReversalDebit> {
  const found = await client.query<{ outcome: 'posted' | 'refused'; balance_after: string | null; replayed: boolean }>(
    `select outcome, balance_after, replayed
       from post_reversal_debit(p_transfer_id => $1::text, p_user_id => $2::text, p_currency => $3::char(3),
                                p_amount => $4::bigint, p_counterparty => $5::text, p_allow_negative => $6::boolean,
                                p_workflow_id => $7::text, p_run_id => $8::text)`,
    [
      request.transferId,
      request.userId,
      request.currency,
      request.amountMinor.toString(),
      request.counterparty,
      request.allowNegative,
      request.workflowId,
      request.runId,
    ],
  );
  const row = found.rows[0]!;
  if (row.outcome === 'refused') return { outcome: 'refused', reason: 'insufficient_funds' };
  return { outcome: 'posted', balanceAfterMinor: BigInt(row.balance_after ?? '0'), replayed: row.replayed };
}

/** Returns the money to the sender: (transfer_id, 'reversal_credit') posts once, also on a frozen or closed wallet. */
export async function postReversalCredit(client: pg.Pool, request: LegMovement): Promise<void> {
  const result = await postLeg(client, {
    transferId: request.transferId,
    leg: 'reversal_credit',
    userId: request.userId,
    customerDeltaMinor: request.amountMinor,
    currency: request.currency,
    counterparty: request.counterparty,
    customerEntryKind: 'reversal_in',
    ignoreHolds: true,
    workflowId: request.workflowId,
    runId: request.runId,
  });
  if (result.outcome !== 'posted')
    throw new Error(`reversal credit of ${request.transferId} ended ${result.outcome}; it must post`);
}

export interface ReversalRecord {
  transferId: string;
  operator: string;
  reason: string;
  forced: boolean;
  via: 'signal' | 'update';
}

/** Ends the owner's record REVERSED (who, why, when) and audits it, once (SQL record_reversal). */
export async function recordReversal(client: pg.Pool, reversal: ReversalRecord): Promise<void> {
  try {
    await client.query(
      `select record_reversal(p_transfer_id => $1::text, p_operator => $2::text, p_reason => $3::text,
                              p_forced => $4::boolean, p_via => $5::text)`,
      [reversal.transferId, reversal.operator, reversal.reason, reversal.forced, reversal.via],
    );
  } catch (error) {
    // The record is not COMPLETED: only a bug or a hand edit gets here; no retry can help.
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'WL409') throw new TransferStateConflict(message ?? 'transfer not reversible');
    throw error;
  }
}

/** A refused reversal is reported on the record and audited; `attempt` keeps a retried activity's row single. */
export async function recordReversalRefusal(
  client: pg.PoolClient,
  refusal: Omit<ReversalRecord, 'forced'> & { refusal: string; attempt: number },
): Promise<void> {
  await client.query(
    'update transfers set reversal_refused_reason = $2::text, updated_at = now() where transfer_id = $1::text',
    [refusal.transferId, refusal.refusal],
  );
  await client.query(
    `insert into ops_audit (operator, action, target_type, target_id, reason, via, details, dedupe_key)
     values ($1::text, 'reverse_refused', 'transfer', $2::text, $3::text, $4::text, jsonb_build_object('refusal', $5::text), $6::text)
     on conflict (dedupe_key) do nothing`,
    [
      refusal.operator,
      refusal.transferId,
      refusal.reason,
      refusal.via,
      refusal.refusal,
      `${refusal.transferId}:reverse_refused:${refusal.attempt}`,
    ],
  );
}
