import type pg from 'pg';
import type { TransferFinish, TransferLeg } from '../domain/transfer-legs';
import type { FailureReason, TransferStatus } from '../domain/transfers';

export type Leg = 'debit' | 'credit' | 'refund' | 'reversal_debit' | 'reversal_credit';
export type Outcome =
  | { outcome: 'posted'; balanceAfterMinor: bigint }
  | { outcome: 'refused'; reason: FailureReason }
  | { outcome: 'voided' };
export type PostingResult = Outcome & {
  replayed: boolean;
  /** The owner's record status after this call, when the request asked to finish it here. */
  transferStatus: TransferStatus | null;
};

/** The workflow run that moved the money: written on every ledger row for traceability. */
export interface WorkflowRun {
  workflowId: string;
  runId: string;
}

/** A leg's money on one wallet, as the ledger functions take it. */
export type LegMovement = Pick<TransferLeg, 'transferId' | 'userId' | 'amountMinor' | 'currency' | 'counterparty'> &
  WorkflowRun;

/** How the owner's record finishes in the leg's own transaction (only when the record is on the leg's shard). */
type FinishInLeg = Pick<TransferFinish, 'ifPosted' | 'ifRefused'>;

/**
 * One posting. `dailyOutgoingMaxMinor`: debits of transfers and withdrawals only (null or absent:
 * no limit). `conversion`: a converting transfer's credit on a shard other than the owner's
 * writes it there in the same statement (once), for the recipient's history.
 */
export type PostingRequest = Omit<LegMovement, 'amountMinor'> &
  Pick<TransferLeg, 'dailyOutgoingMaxMinor' | 'conversion'> & {
    leg: Leg;
    /** Positive: the customer's wallet gains it; negative: it loses it. */
    customerDeltaMinor: bigint;
    customerEntryKind: 'deposit' | 'withdrawal' | 'transfer_out' | 'transfer_in' | 'refund' | 'reversal_in';
    /** Refunds and reversals return money to where it came from: they land on frozen and closed wallets too. */
    ignoreHolds: boolean;
    finish?: FinishInLeg;
  };

interface LegRow {
  outcome: Outcome['outcome'];
  reason: FailureReason | null;
  balance_after: string | null;
  replayed?: boolean;
  transfer_status?: TransferStatus | null;
}

/**
 * Posts one leg of a transfer exactly once, in one statement (the SQL function `post_leg`, see
 * migrations): the unique key (transfer_id, leg) decides the outcome once, a replayed attempt
 * reads it back without touching any balance, and the overdraft check is in the debiting UPDATE.
 * Throws LegAlreadyDecided when a concurrent attempt of the same leg committed first; the caller
 * reads that outcome with findOutcome (outside any aborted transaction).
 */
export async function postLeg(client: pg.PoolClient | pg.Pool, request: PostingRequest): Promise<PostingResult> {
  try {
    const conversion = request.conversion;
    const found = await client.query<LegRow>({
      name: conversion ? 'post_leg_with_conversion' : 'post_leg',
      text: conversion ? `${with_conversion} select ${leg_columns} from leg` : post_leg_select,
      values: [
        request.transferId,
        request.leg,
        request.userId,
        request.currency,
        request.customerDeltaMinor.toString(),
        request.counterparty,
        request.customerEntryKind,
        request.ignoreHolds,
        request.workflowId,
        request.runId,
        request.finish?.ifPosted?.status ?? null,
        request.finish?.ifPosted?.failureReason ?? null,
        request.finish?.ifRefused ?? false,
        request.dailyOutgoingMaxMinor?.toString() ?? null,
        ...(conversion
          ? [
              conversion.sourceCurrency,
              conversion.sourceAmountMinor.toString(),
              conversion.targetCurrency,
              conversion.targetAmountMinor.toString(),
              conversion.rate,
            ]
          : []),
      ],
    });
    const row = found.rows[0]!;
    return { ...outcomeOf(row), replayed: row.replayed === true, transferStatus: row.transfer_status ?? null };
  } catch (error) {
    throw ledgerErrorOf(error);
  }
}

const leg_columns = 'outcome, reason, balance_after, replayed, transfer_status';
const post_leg_select = `select ${leg_columns}
  from post_leg(p_transfer_id => $1::text, p_leg => $2::text, p_user_id => $3::text,
                p_currency => $4::char(3), p_customer_delta => $5::bigint, p_counterparty => $6::text,
                p_entry_kind => $7::text, p_ignore_holds => $8::boolean, p_workflow_id => $9::text,
                p_run_id => $10::text, p_finish_if_posted => $11::text,
                p_finish_reason_if_posted => $12::text, p_finish_if_refused => $13::boolean,
                p_allow_negative => false, p_daily_limit => $14::bigint)`;

/**
 * Writes the leg's conversion ($15-$19) in the leg's own statement, only when the leg posted: a
 * refused credit moved nothing on this shard, so it converted nothing here either. The leg's CTE
 * runs post_leg once (a volatile call is never inlined); a repeat changes nothing.
 */
const with_conversion = `with leg as (${post_leg_select}),
  conversion as (
    insert into conversions (transfer_id, source_currency, source_amount, target_currency, target_amount, rate)
    select $1::text, $15::char(3), $16::bigint, $17::char(3), $18::bigint, $19::numeric from leg where leg.outcome = 'posted'
    on conflict (transfer_id) do nothing)`;

export interface RefundRequest extends LegMovement {
  /** The reason the transfer failed; written on the owner's record when finishInLeg is true. */
  failureReason: FailureReason;
  /** The owner's record is on this shard: it finishes FAILED in the refund's own transaction. */
  finishInLeg: boolean;
}

export interface RefundResult {
  debitOutcome: Outcome['outcome'];
  refunded: boolean;
  transferStatus: TransferStatus | null;
}

/**
 * Compensation in one statement (`refund_debit`): fences the debit (voided when it never ran, so
 * a late attempt cannot post it), refunds it when it did post, and, when asked, finishes the
 * owner's record as FAILED in the same transaction.
 */
export async function refundDebit(client: pg.PoolClient | pg.Pool, request: RefundRequest): Promise<RefundResult> {
  try {
    const found = await client.query<{
      debit_outcome: Outcome['outcome'];
      refunded: boolean;
      transfer_status: TransferStatus | null;
    }>({
      name: 'refund_debit',
      text: `select debit_outcome, refunded, transfer_status
               from refund_debit(p_transfer_id => $1::text, p_user_id => $2::text, p_currency => $3::char(3),
                                 p_amount => $4::bigint, p_counterparty => $5::text, p_workflow_id => $6::text,
                                 p_run_id => $7::text, p_failure_reason => $8::text, p_finish => $9::boolean)`,
      values: [
        request.transferId,
        request.userId,
        request.currency,
        request.amountMinor.toString(),
        request.counterparty,
        request.workflowId,
        request.runId,
        request.failureReason,
        request.finishInLeg,
      ],
    });
    const row = found.rows[0]!;
    return { debitOutcome: row.debit_outcome, refunded: row.refunded, transferStatus: row.transfer_status };
  } catch (error) {
    throw ledgerErrorOf(error);
  }
}

/**
 * Decides a debit whose fate is unknown (`fence_debit`): voids it if it never ran, so it never
 * can, and returns what it is. When asked, a voided debit finishes the owner's record as FAILED
 * (ledger_unavailable) in the same transaction.
 */
export async function fenceDebit(
  client: pg.PoolClient | pg.Pool,
  request: WorkflowRun & { transferId: string; finishInLeg: boolean },
): Promise<Outcome & { transferStatus: TransferStatus | null }> {
  try {
    const found = await client.query<LegRow>({
      name: 'fence_debit',
      text: `select outcome, reason, balance_after, transfer_status
               from fence_debit(p_transfer_id => $1::text, p_workflow_id => $2::text, p_run_id => $3::text,
                                p_finish => $4::boolean)`,
      values: [request.transferId, request.workflowId, request.runId, request.finishInLeg],
    });
    const row = found.rows[0]!;
    return { ...outcomeOf(row), transferStatus: row.transfer_status ?? null };
  } catch (error) {
    throw ledgerErrorOf(error);
  }
}

/** Finishes the owner's record (SQL finish_transfer) when the deciding leg ran on another shard; returns the status it has now. */
export async function finishTransfer(
  client: pg.PoolClient | pg.Pool,
  transferId: string,
  status: TransferStatus,
  failureReason: FailureReason | null,
): Promise<TransferStatus> {
  try {
    const found = await client.query<{ status: TransferStatus }>({
      name: 'finish_transfer',
      text: 'select finish_transfer(p_transfer_id => $1::text, p_status => $2::text, p_reason => $3::text) as status',
      values: [transferId, status, failureReason],
    });
    return found.rows[0]!.status;
  } catch (error) {
    throw ledgerErrorOf(error);
  }
}

export async function findOutcome(
  client: pg.PoolClient | pg.Pool,
  transferId: string,
  leg: Leg,
): Promise<Outcome | undefined> {
  const found = await client.query<LegRow>({
    name: 'leg_outcome',
    text: 'select outcome, reason, balance_after from leg_outcome(p_transfer_id => $1::text, p_leg => $2::text)',
    values: [transferId, leg],
  });
  const row = found.rows[0];
  return row && outcomeOf(row);
}

function outcomeOf(row: LegRow): Outcome {
  if (row.outcome === 'posted') return { outcome: 'posted', balanceAfterMinor: BigInt(row.balance_after ?? '0') };
  if (row.outcome === 'refused') return { outcome: 'refused', reason: row.reason ?? 'unknown_user' };
  return { outcome: 'voided' };
}

/** A second attempt of a leg that lost the race on the postings primary key (or on the refund leg's). */
function isLegDecidedRace(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'postings_pkey';
}

/** Maps the ledger's own errors to typed ones: a lost race, or a record already final in another state. */
export function ledgerErrorOf(error: unknown): unknown {
  if (isLegDecidedRace(error)) return new LegAlreadyDecided();
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'WL409') return new TransferStateConflict(message ?? 'transfer already final in another state');
  return error;
}

/**
 * The transfer's record was already final in another state; the leg was rolled back with the
 * check, so nothing moved. Only a bug or a hand edit gets here: no retry can fix it.
 */
export class TransferStateConflict extends Error {
  override name = 'TransferStateConflict';
}

/** A concurrent attempt decided the leg first; this attempt's changes were rolled back. Re-read the outcome. */
export class LegAlreadyDecided extends Error {
  override name = 'LegAlreadyDecided';
}

export interface LegRecord {
  leg: Leg;
  outcome: Outcome['outcome'];
  reason: FailureReason | null;
  createdAt: Date;
}

/** The legs of a transfer that were decided on one shard (the sender's holds debit and refund, the recipient's the credit). */
export async function legsOf(client: pg.Pool | pg.PoolClient, transferId: string): Promise<LegRecord[]> {
  const found = await client.query<{
    leg: Leg;
    outcome: Outcome['outcome'];
    reason: FailureReason | null;
    created_at: Date;
  }>('select leg, outcome, reason, created_at from postings where transfer_id = $1::text order by created_at, leg', [
    transferId,
  ]);
  return found.rows.map((row) => ({
    leg: row.leg,
    outcome: row.outcome,
    reason: row.reason,
    createdAt: row.created_at,
  }));
}
