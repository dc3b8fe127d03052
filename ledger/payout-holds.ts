import type pg from 'pg';
import type { FailureReason } from '../domain/transfers';
import { ledgerErrorOf, type WorkflowRun } from './postings';

/**
 * A payout's money as ledger postings (db/functions/hold_payout.sql and its siblings): each call
 * is one statement, one local transaction that balances on its own, keyed (payout_id, leg) so a
 * retry moves nothing, and on the hash chain like every entry. The money's path:
 *
 *   hold:    customer          -> payouts_in_flight   (reserved at once; the debit's checks apply)
 *   release: payouts_in_flight -> customer            (canceled, or returned before settlement)
 *   settle:  payouts_in_flight -> settlement          (the bank paid it out)
 *   return:  settlement        -> customer            (returned after settlement)
 *
 * Release and settle exclude each other (both lock the hold's payout_holds row); release, settle
 * and return move exactly the held amount, read from the hold, never from the caller. The
 * payout's id is the key of its postings, beside transfer ids, so it must not look like one: the
 * payout workflow names its payouts `po_...`.
 *
 * Throws LegAlreadyDecided (ledger/postings.ts) when a concurrent attempt of the same hold won;
 * the caller reads the outcome by calling again. Throws TransferStateConflict when a leg cannot
 * apply (settling a released hold, releasing a settled one, a retry with another amount): a
 * bug, never a retry's business; nothing moved.
 */

export interface HoldRequest extends WorkflowRun {
  payoutId: string;
  userId: string;
  currency: string;
  amountMinor: bigint;
  /** The default rolling 24-hour outgoing limit (TransferLimits.dailyOutgoingMaxMinor), as a withdrawal's debit takes it. */
  dailyOutgoingMaxMinor: bigint | null;
}

export type HoldOutcome =
  | { outcome: 'posted'; balanceAfterMinor: bigint; replayed: boolean }
  | { outcome: 'refused'; reason: FailureReason; replayed: boolean }
  /** release_hold fenced it before it ran: it never can. */
  | { outcome: 'voided'; replayed: boolean };

/** Reserves a payout's amount: refused (and nothing held) as a transfer's debit would be. */
export async function holdPayout(client: pg.Pool | pg.PoolClient, request: HoldRequest): Promise<HoldOutcome> {
  const row = await ledgerCall<{
    outcome: string;
    reason: FailureReason | null;
    balance_after: string | null;
    replayed: boolean;
  }>(client, {
    name: 'hold_payout',
    text: `select outcome, reason, balance_after, replayed
               from hold_payout(p_payout_id => $1::text, p_user_id => $2::text, p_currency => $3::char(3),
                                p_amount => $4::bigint, p_daily_limit => $5::bigint, p_workflow_id => $6::text,
                                p_run_id => $7::text)`,
    values: [
      request.payoutId,
      request.userId,
      request.currency,
      request.amountMinor.toString(),
      request.dailyOutgoingMaxMinor?.toString() ?? null,
      request.workflowId,
      request.runId,
    ],
  });
  if (row.outcome === 'posted')
    return { outcome: 'posted', balanceAfterMinor: BigInt(row.balance_after ?? '0'), replayed: row.replayed };
  if (row.outcome === 'refused')
    return { outcome: 'refused', reason: row.reason ?? 'unknown_user', replayed: row.replayed };
  return { outcome: 'voided', replayed: row.replayed };
}

export interface ReleaseResult {
  /** What the hold was when the release ran: voided when it had not run (it never can now). */
  holdOutcome: HoldOutcome['outcome'];
  /** True when the held money is back in the wallet (now or by an earlier attempt). */
  released: boolean;
}

/** Gives a hold back to the customer; fences a hold whose fate is unknown. */
export async function releaseHold(
  client: pg.Pool | pg.PoolClient,
  payoutId: string,
  run: WorkflowRun,
): Promise<ReleaseResult> {
  const row = await ledgerCall<{ hold_outcome: HoldOutcome['outcome']; released: boolean }>(client, {
    name: 'release_hold',
    text: `select hold_outcome, released
             from release_hold(p_payout_id => $1::text, p_workflow_id => $2::text, p_run_id => $3::text)`,
    values: [payoutId, run.workflowId, run.runId],
  });
  return { holdOutcome: row.hold_outcome, released: row.released };
}

/** The held money leaves for the settlement account; true when an earlier attempt already did it. */
export async function settleHold(
  client: pg.Pool | pg.PoolClient,
  payoutId: string,
  run: WorkflowRun,
): Promise<{ replayed: boolean }> {
  const row = await ledgerCall<{ replayed: boolean }>(client, {
    name: 'settle_hold',
    text: `select replayed from settle_hold(p_payout_id => $1::text, p_workflow_id => $2::text, p_run_id => $3::text)`,
    values: [payoutId, run.workflowId, run.runId],
  });
  return { replayed: row.replayed };
}

/** A settled payout came back from the bank: its amount returns to the wallet. */
export async function returnSettled(
  client: pg.Pool | pg.PoolClient,
  payoutId: string,
  run: WorkflowRun,
): Promise<{ balanceAfterMinor: bigint; replayed: boolean }> {
  const row = await ledgerCall<{ balance_after: string; replayed: boolean }>(client, {
    name: 'return_settled',
    text: `select balance_after, replayed
             from return_settled(p_payout_id => $1::text, p_workflow_id => $2::text, p_run_id => $3::text)`,
    values: [payoutId, run.workflowId, run.runId],
  });
  return { balanceAfterMinor: BigInt(row.balance_after), replayed: row.replayed };
}

export type HoldStatus = 'held' | 'released' | 'settled' | 'returned';

/** Where a payout's hold stands; undefined when it never posted. */
export async function holdStatusOf(client: pg.Pool | pg.PoolClient, payoutId: string): Promise<HoldStatus | undefined> {
  const found = await client.query<{ status: HoldStatus }>(
    'select status from payout_holds where payout_id = $1::text',
    [payoutId],
  );
  return found.rows[0]?.status;
}

async function ledgerCall<Row extends pg.QueryResultRow>(
  client: pg.Pool | pg.PoolClient,
  query: pg.QueryConfig,
): Promise<Row> {
  try {
    const found = await client.query<Row>(query);
    return found.rows[0]!;
  } catch (error) {
    throw ledgerErrorOf(error);
  }
}
