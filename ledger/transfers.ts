import type pg from 'pg';
import type { FailureReason, Transfer, TransferKind, TransferStatus } from '../domain/transfers';
import { conversionOf, conversion_json_sql, type ConversionRecord, type ConversionJson } from './fx';

/** A transfer's durable record on its owner's shard: the transfer, and what became of it. */
export interface TransferRecord extends Omit<Transfer, 'conversion'> {
  ownerUserId: string;
  idempotencyKey: string;
  requestHash: string;
  status: TransferStatus;
  failureReason: FailureReason | null;
  createdAt: Date;
  completedAt: Date | null;
  /** Set when ops reversed the transfer after it completed. */
  reversal: { at: Date; by: string; reason: string; forced: boolean } | null;
  /** Why the last reversal attempt was refused (the recipient could not cover it), if one was. */
  reversalRefusedReason: string | null;
  /** Approvals the transfer needed when it was accepted (0: not held); fixed for every rerun. */
  approvalsRequired: 0 | 1 | 2;
  /** The ops operator who made the request, if one did: they may not approve it. */
  initiatedBy: string | null;
  /** A cross-currency transfer's conversion (rate, target amount), fixed when it was accepted. */
  conversion: ConversionRecord | null;
}

export type NewTransfer = Omit<
  TransferRecord,
  | 'status'
  | 'failureReason'
  | 'createdAt'
  | 'completedAt'
  | 'reversal'
  | 'reversalRefusedReason'
  | 'initiatedBy'
  | 'conversion'
> & {
  /** The operator when an ops token made the request: audited with the record, once. */
  opsOperator: string | null;
};

const columns = `transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency, note,
  idempotency_key, request_hash, status, failure_reason, created_at, completed_at,
  reversed_at, reversed_by, reversal_reason, reversal_forced, reversal_refused_reason, approvals_required, initiated_by`;

interface TransferRow {
  transfer_id: string;
  kind: TransferKind;
  owner_user_id: string;
  from_user_id: string | null;
  to_user_id: string | null;
  amount: string;
  currency: string;
  note: string | null;
  idempotency_key: string;
  request_hash: string;
  status: TransferStatus;
  failure_reason: FailureReason | null;
  created_at: Date;
  completed_at: Date | null;
  reversed_at: Date | null;
  reversed_by: string | null;
  reversal_reason: string | null;
  reversal_forced: boolean | null;
  reversal_refused_reason: string | null;
  approvals_required: number;
  initiated_by: string | null;
  /** Only in reads (the record's insert has none yet). */
  conversion?: ConversionJson | null;
}

function fromRow(row: TransferRow): TransferRecord {
  return {
    transferId: row.transfer_id,
    kind: row.kind,
    ownerUserId: row.owner_user_id,
    fromUserId: row.from_user_id,
    toUserId: row.to_user_id,
    amountMinor: BigInt(row.amount),
    currency: row.currency,
    note: row.note,
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    status: row.status,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    reversal: row.reversed_at
      ? {
          at: row.reversed_at,
          by: row.reversed_by ?? '',
          reason: row.reversal_reason ?? '',
          forced: row.reversal_forced === true,
        }
      : null,
    reversalRefusedReason: row.reversal_refused_reason,
    approvalsRequired: row.approvals_required as 0 | 1 | 2,
    initiatedBy: row.initiated_by,
    conversion: conversionOf(row.conversion),
  };
}

/** The conversion of a new record ($13 target currency, $14 target amount, $15 rate, $16 quote), and its quote used up. */
const converting_ctes = `,
           converted as (
             insert into conversions (transfer_id, source_currency, source_amount, target_currency, target_amount, rate, quote_id)
             select transfer_id, currency, amount, $13::char(3), $14::bigint, $15::numeric, $16::text from recorded),
           quote_used as (
             update fx_quotes set used_by = recorded.transfer_id from recorded
              where fx_quotes.quote_id = $16::text and fx_quotes.used_by is null)`;

/**
 * Records a transfer request once. Returns the stored record: the new one, or the one an
 * earlier request with the same key created (the caller compares request hashes).
 */
export async function registerTransfer(
  client: pg.PoolClient | pg.Pool,
  transfer: NewTransfer,
  /** A converting transfer's conversion: written with the record, and its quote marked used, in the same statement. */
  conversion?: ConversionRecord,
): Promise<{ record: TransferRecord; inserted: boolean }> {
  const values = [
    transfer.transferId,
    transfer.kind,
    transfer.ownerUserId,
    transfer.fromUserId,
    transfer.toUserId,
    transfer.amountMinor.toString(),
    transfer.currency,
    transfer.note,
    transfer.idempotencyKey,
    transfer.requestHash,
    transfer.approvalsRequired,
    transfer.opsOperator,
  ];
  const conversionValues = conversion
    ? [conversion.targetCurrency, conversion.targetAmountMinor.toString(), conversion.rate, conversion.quoteId]
    : [];
  const inserted = await client.query<TransferRow>({
    name: conversion ? 'register_converting_transfer' : 'register_transfer',
    // An ops-initiated request is audited in the same statement, only when the record is new.
    text: `with recorded as (
             insert into transfers (transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency, note,
                                    idempotency_key, request_hash, status, approvals_required, initiated_by)
             values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::char(3), $8::text, $9::text, $10::text,
                     case when $11::int > 0 then 'PENDING_REVIEW' else 'PENDING' end, $11::int, $12::text)
             on conflict do nothing
             returning ${columns}),
           audited as (
             insert into ops_audit (operator, action, target_type, target_id, via, details)
             select $12::text, kind, 'transfer', transfer_id, 'http',
                    jsonb_build_object('amount', amount::text, 'currency', currency, 'from_user_id', from_user_id, 'to_user_id', to_user_id)
               from recorded where $12::text is not null)${conversion ? converting_ctes : ''}
           select * from recorded`,
    values: [...values, ...conversionValues],
  });
  // No conflict target: the transfer id is a hash of (kind, owner, key), so a racing identical
  // request may trip either unique key first; both mean "already recorded".
  if (inserted.rows[0])
    return { record: { ...fromRow(inserted.rows[0]), conversion: conversion ?? null }, inserted: true };
  // A separate statement: its snapshot sees the row a concurrent request committed while we waited on it.
  const existing = await findTransferRow(client, transfer.transferId);
  if (!existing) throw new Error(`transfer ${transfer.transferId} neither inserted nor found`);
  return { record: fromRow(existing), inserted: false };
}

export async function findTransfer(
  client: pg.PoolClient | pg.Pool,
  transferId: string,
): Promise<TransferRecord | undefined> {
  const row = await findTransferRow(client, transferId);
  return row && fromRow(row);
}

async function findTransferRow(client: pg.PoolClient | pg.Pool, transferId: string): Promise<TransferRow | undefined> {
  const found = await client.query<TransferRow>({
    name: 'find_transfer',
    text: `select ${columns}, ${conversion_json_sql} from transfers where transfer_id = $1::text`,
    values: [transferId],
  });
  return found.rows[0];
}

/**
 * PENDING and PENDING_REVIEW transfers older than the given age, a page at a time in transfer id
 * order: pass the last id of a page as `afterTransferId` to get the next one. A held transfer's
 * workflow is what holds it (it waits for the reviewer), so a held record without one is an
 * orphan like any other.
 */
export async function findStalePending(
  client: pg.PoolClient | pg.Pool,
  query: { olderThanMs: number; limit: number; afterTransferId?: string },
): Promise<TransferRecord[]> {
  const found = await client.query<TransferRow>(
    `select ${columns}, ${conversion_json_sql} from transfers
      where status in ('PENDING', 'PENDING_REVIEW')
        and created_at < now() - make_interval(secs => $1::double precision / 1000)
        and ($3::text is null or transfer_id > $3::text)
      order by transfer_id
      limit $2::int`,
    [query.olderThanMs, query.limit, query.afterTransferId ?? null],
  );
  return found.rows.map(fromRow);
}
