import type pg from 'pg';
import type { BatchItem } from '../domain/transfer-batches';
import type { FailureReason, TransferStatus } from '../domain/transfers';

/** A batch's durable record on its payer's shard. */
export interface BatchRecord {
  batchId: string;
  payerUserId: string;
  idempotencyKey: string;
  requestHash: string;
  currency: string;
  itemCount: number;
  totalMinor: bigint;
  /** RUNNING until the batch workflow saw every item final, then COMPLETED. */
  status: 'RUNNING' | 'COMPLETED';
  initiatedBy: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export type NewBatch = Omit<BatchRecord, 'status' | 'createdAt' | 'completedAt'>;

/** An item of a stored batch: what was asked, and the transfer it became. */
export interface BatchItemRecord extends BatchItem {
  position: number;
  transferId: string;
  /** The transfer's status; PENDING while its record is not yet written (the workflow writes it in chunks). */
  status: TransferStatus;
  failureReason: FailureReason | null;
}

interface BatchRow {
  batch_id: string;
  payer_user_id: string;
  idempotency_key: string;
  request_hash: string;
  currency: string;
  item_count: number;
  total_amount: string;
  status: 'RUNNING' | 'COMPLETED';
  initiated_by: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const batch_columns = `batch_id, payer_user_id, idempotency_key, request_hash, currency, item_count, total_amount,
  status, initiated_by, created_at, completed_at`;

function batchOf(row: BatchRow): BatchRecord {
  return {
    batchId: row.batch_id,
    payerUserId: row.payer_user_id,
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    currency: row.currency.trim(),
    itemCount: row.item_count,
    totalMinor: BigInt(row.total_amount),
    status: row.status,
    initiatedBy: row.initiated_by,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

/**
 * Records a batch and its items once, in one transaction. Returns the stored batch: the new one,
 * or the one an earlier request with the same key created (the caller compares request hashes).
 */
export async function registerBatch(
  client: pg.PoolClient,
  batch: NewBatch,
  items: readonly (BatchItem & { transferId: string })[],
): Promise<{ record: BatchRecord; inserted: boolean }> {
  const inserted = await client.query<BatchRow>(
    `insert into transfer_batches (batch_id, payer_user_id, idempotency_key, request_hash, currency, item_count,
                                   total_amount, initiated_by)
     values ($1::text, $2::text, $3::text, $4::text, $5::char(3), $6::int, $7::bigint, $8::text)
     on conflict do nothing
     returning ${batch_columns}`,
    [
      batch.batchId,
      batch.payerUserId,
      batch.idempotencyKey,
      batch.requestHash,
      batch.currency,
      batch.itemCount,
      batch.totalMinor.toString(),
      batch.initiatedBy,
    ],
  );
  if (!inserted.rows[0]) {
    const existing = await findBatch(client, batch.batchId);
    if (!existing) throw new Error(`batch ${batch.batchId} neither inserted nor found`);
    return { record: existing, inserted: false };
  }
  // One set-based insert for up to a thousand items.
  await client.query(
    `insert into transfer_batch_items (batch_id, position, transfer_id, to_user_id, amount, note, idempotency_key)
     select $1::text, item.position - 1, item.transfer_id, item.to_user_id, item.amount, item.note, item.idempotency_key
       from unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
            with ordinality as item (transfer_id, to_user_id, amount, note, idempotency_key, position)`,
    [
      batch.batchId,
      items.map((item) => item.transferId),
      items.map((item) => item.toUserId),
      items.map((item) => item.amountMinor.toString()),
      items.map((item) => item.note),
      items.map((item) => item.idempotencyKey),
    ],
  );
  return { record: batchOf(inserted.rows[0]), inserted: true };
}

export async function findBatch(client: pg.PoolClient | pg.Pool, batchId: string): Promise<BatchRecord | undefined> {
  const found = await client.query<BatchRow>(
    `select ${batch_columns} from transfer_batches where batch_id = $1::text`,
    [batchId],
  );
  return found.rows[0] && batchOf(found.rows[0]);
}

interface ItemRow {
  position: number;
  transfer_id: string;
  to_user_id: string;
  amount: string;
  note: string | null;
  idempotency_key: string;
  status: TransferStatus | null;
  failure_reason: FailureReason | null;
}

function itemOf(row: ItemRow): BatchItemRecord {
  return {
    position: row.position,
    transferId: row.transfer_id,
    toUserId: row.to_user_id,
    amountMinor: BigInt(row.amount),
    note: row.note,
    idempotencyKey: row.idempotency_key,
    status: row.status ?? 'PENDING',
    failureReason: row.failure_reason,
  };
}

/**
 * Items from `afterPosition` on, in order, with their transfers' status. The transfers are on
 * the same shard (the payer owns them), so this is one join.
 */
export async function batchItems(
  client: pg.PoolClient | pg.Pool,
  batchId: string,
  page: { afterPosition: number; limit: number },
): Promise<BatchItemRecord[]> {
  const found = await client.query<ItemRow>(
    `select i.position, i.transfer_id, i.to_user_id, i.amount, i.note, i.idempotency_key, t.status, t.failure_reason
       from transfer_batch_items i left join transfers t on t.transfer_id = i.transfer_id
      where i.batch_id = $1::text and i.position > $2::int
      order by i.position
      limit $3::int`,
    [batchId, page.afterPosition, page.limit],
  );
  return found.rows.map(itemOf);
}

/** How many of the batch's items are in each status (an item without its record yet is PENDING). */
export async function batchCounts(
  client: pg.PoolClient | pg.Pool,
  batchId: string,
): Promise<Partial<Record<TransferStatus, number>>> {
  const found = await client.query<{ status: TransferStatus; count: string }>(
    `select coalesce(t.status, 'PENDING') as status, count(*) as count
       from transfer_batch_items i left join transfers t on t.transfer_id = i.transfer_id
      where i.batch_id = $1::text
      group by 1`,
    [batchId],
  );
  return Object.fromEntries(found.rows.map((row) => [row.status, Number(row.count)]));
}

/** Items not yet final (PENDING, PENDING_REVIEW, or not yet recorded): the batch is final at zero. */
export async function openBatchItems(client: pg.PoolClient | pg.Pool, batchId: string): Promise<number> {
  const found = await client.query<{ open: string }>(
    `select count(*) as open
       from transfer_batch_items i left join transfers t on t.transfer_id = i.transfer_id
      where i.batch_id = $1::text and (t.status is null or t.status in ('PENDING', 'PENDING_REVIEW'))`,
    [batchId],
  );
  return Number(found.rows[0]?.open ?? 0);
}

/** The batch workflow saw every item final. Idempotent: a replayed call keeps the first time. */
export async function completeBatch(client: pg.PoolClient | pg.Pool, batchId: string): Promise<void> {
  await client.query(
    `update transfer_batches set status = 'COMPLETED', completed_at = now()
      where batch_id = $1::text and status = 'RUNNING'`,
    [batchId],
  );
}

/** The request hashes of the transfers among `transferIds` that already have records on this shard. */
export async function existingRequestHashes(
  client: pg.PoolClient | pg.Pool,
  transferIds: readonly string[],
): Promise<Map<string, string>> {
  const found = await client.query<{ transfer_id: string; request_hash: string }>(
    `select transfer_id, request_hash from transfers where transfer_id = any($1::text[])`,
    [transferIds],
  );
  return new Map(found.rows.map((row) => [row.transfer_id, row.request_hash]));
}

/**
 * The payer's daily outgoing room in one currency: its limit (the wallet's own, else the
 * default) less what left it in the last 24 hours (the same outgoing_last_day the debit checks).
 * Null when no limit applies.
 */
export async function dailyOutgoingRoom(
  client: pg.PoolClient | pg.Pool,
  wallet: { userId: string; currency: string; defaultMaxMinor: bigint },
): Promise<bigint | null> {
  const accountId = `customer:${wallet.userId}:${wallet.currency}`;
  const found = await client.query<{ room: string | null }>(
    `select coalesce((select daily_outgoing_max from accounts where account_id = $1::text), $2::bigint)
            - outgoing_last_day($1::text) as room`,
    [accountId, wallet.defaultMaxMinor.toString()],
  );
  const room = found.rows[0]?.room;
  return room === null || room === undefined ? null : BigInt(room);
}

/** The users among `userIds` that exist on this shard. */
export async function existingUsers(client: pg.PoolClient | pg.Pool, userIds: readonly string[]): Promise<Set<string>> {
  const found = await client.query<{ user_id: string }>(`select user_id from users where user_id = any($1::text[])`, [
    userIds,
  ]);
  return new Set(found.rows.map((row) => row.user_id));
}

/** Batches still RUNNING that were accepted at least `olderThanMs` ago, oldest first. */
export async function runningBatchesOlderThan(
  client: pg.PoolClient | pg.Pool,
  olderThanMs: number,
  limit: number,
): Promise<BatchRecord[]> {
  const found = await client.query<BatchRow>(
    `select ${batch_columns} from transfer_batches
      where status = 'RUNNING' and created_at < now() - make_interval(secs => $1::double precision / 1000)
      order by created_at
      limit $2::int`,
    [olderThanMs, limit],
  );
  return found.rows.map(batchOf);
}
