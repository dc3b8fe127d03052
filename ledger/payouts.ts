import type pg from 'pg';
import type { Payout, PayoutFailureReason, PayoutStatus } from '../domain/payouts';

/**
 * A payout's durable record on its owner's shard (migrations/1763769600040_payouts.sql). The API
 * writes it before the workflow starts (its key decides new, retry or reused); the workflow moves
 * its status forward, each move guarded by the status it expects, so a cancel and a cutoff
 * racing for the same HELD payout cannot both win.
 */
export interface PayoutRecord extends Payout {
  idempotencyKey: string;
  requestHash: string;
  rail: 'ach';
  status: PayoutStatus;
  failureReason: PayoutFailureReason | null;
  returnCode: string | null;
  fileSequence: number | null;
  traceNumber: string | null;
  initiatedBy: string | null;
  /** The review rule fixed when it was accepted: 0 none, 1 one operator, 2 four eyes. */
  approvalsRequired: 0 | 1 | 2;
  createdAt: Date;
  statusChangedAt: Date;
  settledAt: Date | null;
  returnWindowEndsAt: Date | null;
}

export type NewPayout = Pick<
  PayoutRecord,
  | 'payoutId'
  | 'userId'
  | 'bankAccountId'
  | 'idempotencyKey'
  | 'requestHash'
  | 'rail'
  | 'currency'
  | 'amountMinor'
  | 'approvalsRequired'
> & { status: 'ACCEPTED' | 'PENDING_REVIEW'; initiatedBy: string | null };

interface PayoutRow {
  payout_id: string;
  user_id: string;
  bank_account_id: string;
  idempotency_key: string;
  request_hash: string;
  rail: 'ach';
  currency: string;
  amount: string;
  status: PayoutStatus;
  failure_reason: PayoutFailureReason | null;
  return_code: string | null;
  file_sequence: string | null;
  trace_number: string | null;
  initiated_by: string | null;
  approvals_required: number;
  created_at: Date;
  status_changed_at: Date;
  settled_at: Date | null;
  return_window_ends_at: Date | null;
}

const columns = `payout_id, user_id, bank_account_id, idempotency_key, request_hash, rail, currency, amount, status,
  failure_reason, return_code, file_sequence, trace_number, initiated_by, approvals_required, created_at,
  status_changed_at, settled_at, return_window_ends_at`;

function payoutOf(row: PayoutRow): PayoutRecord {
  return {
    payoutId: row.payout_id,
    userId: row.user_id,
    bankAccountId: row.bank_account_id,
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    rail: row.rail,
    currency: row.currency.trim(),
    amountMinor: BigInt(row.amount),
    status: row.status,
    failureReason: row.failure_reason,
    returnCode: row.return_code,
    fileSequence: row.file_sequence === null ? null : Number(row.file_sequence),
    traceNumber: row.trace_number,
    initiatedBy: row.initiated_by,
    approvalsRequired: row.approvals_required as 0 | 1 | 2,
    createdAt: row.created_at,
    statusChangedAt: row.status_changed_at,
    settledAt: row.settled_at,
    returnWindowEndsAt: row.return_window_ends_at,
  };
}

/** Records a payout once; answers the stored one (new, or an earlier request's with the same key). */
export async function registerPayout(
  pool: pg.Pool,
  payout: NewPayout,
): Promise<{ record: PayoutRecord; inserted: boolean }> {
  const inserted = await pool.query<PayoutRow>(
    `insert into payouts (payout_id, user_id, bank_account_id, idempotency_key, request_hash, rail, currency, amount,
                          status, initiated_by, approvals_required)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::char(3), $8::bigint, $9::text, $10::text,
             $11::smallint)
     on conflict (payout_id) do nothing
     returning ${columns}`,
    [
      payout.payoutId,
      payout.userId,
      payout.bankAccountId,
      payout.idempotencyKey,
      payout.requestHash,
      payout.rail,
      payout.currency,
      payout.amountMinor.toString(),
      payout.status,
      payout.initiatedBy,
      payout.approvalsRequired,
    ],
  );
  if (inserted.rows[0]) return { record: payoutOf(inserted.rows[0]), inserted: true };
  const existing = await findPayout(pool, payout.payoutId);
  if (!existing) throw new Error(`payout ${payout.payoutId} conflicted but is not there`);
  return { record: existing, inserted: false };
}

export async function findPayout(pool: pg.Pool | pg.PoolClient, payoutId: string): Promise<PayoutRecord | undefined> {
  const found = await pool.query<PayoutRow>(`select ${columns} from payouts where payout_id = $1::text`, [payoutId]);
  return found.rows[0] && payoutOf(found.rows[0]);
}

/** What a status move writes besides the status. */
export interface PayoutChange {
  failureReason?: PayoutFailureReason;
  returnCode?: string;
  settledAt?: boolean;
  returnWindowMs?: number;
}

/**
 * Moves the payout to `to` if its status is one of `from` (or already `to`: a retry). Answers the
 * record after the move, or undefined when the status was something else (the move lost a race).
 */
export async function movePayout(
  pool: pg.Pool | pg.PoolClient,
  payoutId: string,
  from: readonly PayoutStatus[],
  to: PayoutStatus,
  change: PayoutChange = {},
): Promise<PayoutRecord | undefined> {
  const moved = await pool.query<PayoutRow>(
    `update payouts
        set status = $3::text,
            status_changed_at = case when status = $3::text then status_changed_at else now() end,
            failure_reason = coalesce(failure_reason, $4::text),
            return_code = coalesce(return_code, $5::text),
            settled_at = case when $6::boolean then coalesce(settled_at, now()) else settled_at end,
            return_window_ends_at = case when $7::bigint is null then return_window_ends_at
              else coalesce(return_window_ends_at, now() + make_interval(secs => $7::bigint / 1000.0)) end
      where payout_id = $1::text and (status = any($2::text[]) or status = $3::text)
      returning ${columns}`,
    [
      payoutId,
      [...from],
      to,
      change.failureReason ?? null,
      change.returnCode ?? null,
      change.settledAt === true,
      change.returnWindowMs ?? null,
    ],
  );
  return moved.rows[0] && payoutOf(moved.rows[0]);
}

/** What a payout file needs of a payout record. */
export type FiledPayout = Pick<PayoutRecord, 'payoutId' | 'userId' | 'bankAccountId' | 'amountMinor' | 'currency'>;

/** This shard's payouts the file holds (claimed by this or an earlier attempt of the cutoff). */
export async function payoutsInFile(pool: pg.Pool, fileSequence: number): Promise<FiledPayout[]> {
  const found = await pool.query<PayoutRow>(`select ${columns} from payouts where file_sequence = $1::bigint`, [
    fileSequence,
  ]);
  return found.rows.map(payoutOf).map(filedPayoutOf);
}

/**
 * Claims up to `limit` HELD payouts of this shard for the file being collected (BATCHED, with its
 * sequence), oldest first, and answers them. A payout a cancel moved first is not HELD and is
 * not taken; one a cancel is moving waits for it (the row lock) and is then skipped.
 */
export async function claimForFile(pool: pg.Pool, fileSequence: number, limit: number): Promise<FiledPayout[]> {
  if (limit <= 0) return [];
  const claimed = await pool.query<PayoutRow>(
    `update payouts set status = 'BATCHED', status_changed_at = now(), file_sequence = $1::bigint
      where payout_id in (select payout_id from payouts where status = 'HELD'
                           order by created_at, payout_id limit $2::int for update)
        and status = 'HELD'
      returning ${columns}`,
    [fileSequence, limit],
  );
  return claimed.rows.map(payoutOf).map(filedPayoutOf);
}

/** True when this shard has a payout waiting for a cutoff. */
export async function anyPayoutWaiting(pool: pg.Pool): Promise<boolean> {
  const found = await pool.query("select 1 from payouts where status = 'HELD' limit 1");
  return found.rowCount === 1;
}

function filedPayoutOf({ payoutId, userId, bankAccountId, amountMinor, currency }: PayoutRecord): FiledPayout {
  return { payoutId, userId, bankAccountId, amountMinor, currency };
}

/** Writes the trace numbers a recorded file gave this shard's payouts. */
export async function setTraceNumbers(
  pool: pg.Pool,
  entries: readonly { payoutId: string; traceNumber: string }[],
): Promise<void> {
  if (entries.length === 0) return;
  await pool.query(
    `update payouts p set trace_number = e.trace_number
       from unnest($1::text[], $2::text[]) as e(payout_id, trace_number)
      where p.payout_id = e.payout_id and p.trace_number is distinct from e.trace_number`,
    [entries.map((entry) => entry.payoutId), entries.map((entry) => entry.traceNumber)],
  );
}

/** Payouts of this shard stuck before a final state: their status unchanged since `before`, oldest first. */
export async function stuckPayouts(pool: pg.Pool, before: Date, limit: number): Promise<PayoutRecord[]> {
  const found = await pool.query<PayoutRow>(
    `select ${columns} from payouts
      where status in ('ACCEPTED', 'PENDING_REVIEW', 'HELD', 'BATCHED', 'SUBMITTED') and status_changed_at < $1::timestamptz
      order by status_changed_at, payout_id limit $2::int`,
    [before, limit],
  );
  return found.rows.map(payoutOf);
}
