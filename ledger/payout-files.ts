import type pg from 'pg';

/**
 * The wallet's payout files and what came back for them, on the reference shard
 * (migrations/1763769600040_payouts.sql): the durable counters of file and entry sequences, each
 * file's entries and trace numbers recorded before the upload, the returns received, and the
 * cursor over the bank's feed.
 */
export type PayoutFileStatus = 'COLLECTING' | 'RECORDED' | 'UPLOADED' | 'SETTLED' | 'REFUSED';

export interface PayoutFileEntry {
  position: number;
  payoutId: string;
  userId: string;
  amountMinor: bigint;
  traceNumber: string;
}

export interface PayoutFile {
  fileSequence: number;
  status: PayoutFileStatus;
  /** Set once recorded: the batch a rebuild needs, so it gives the same bytes. */
  firstEntrySequence: number | null;
  fileCreatedAt: Date | null;
  effectiveDate: string | null;
  fileName: string | null;
  bankFileId: string | null;
}

interface FileRow {
  file_sequence: string;
  status: PayoutFileStatus;
  first_entry_sequence: string | null;
  file_created_at: Date | null;
  effective_date: string | null;
  file_name: string | null;
  bank_file_id: string | null;
}

const file_columns = `file_sequence, status, first_entry_sequence, file_created_at, to_char(effective_date, 'YYYY-MM-DD') as effective_date,
  file_name, bank_file_id`;

function fileOf(row: FileRow): PayoutFile {
  return {
    fileSequence: Number(row.file_sequence),
    status: row.status,
    firstEntrySequence: row.first_entry_sequence === null ? null : Number(row.first_entry_sequence),
    fileCreatedAt: row.file_created_at,
    effectiveDate: row.effective_date,
    fileName: row.file_name,
    bankFileId: row.bank_file_id,
  };
}

/**
 * The file a cutoff works on: one left unfinished (collecting, or recorded and not yet uploaded)
 * by an earlier run, else a new one with the next sequence. Undefined: nothing is unfinished and
 * `open` is false.
 */
export async function unfinishedOrNewFile(pool: pg.Pool, open: boolean): Promise<PayoutFile | undefined> {
  const unfinished = await pool.query<FileRow>(
    `select ${file_columns} from payout_files
      where status in ('COLLECTING', 'RECORDED') or (status in ('UPLOADED', 'REFUSED') and announced_at is null)
      order by file_sequence limit 1`,
  );
  if (unfinished.rows[0]) return fileOf(unfinished.rows[0]);
  if (!open) return undefined;
  const created = await pool.query<FileRow>(
    `insert into payout_files (file_sequence, rail)
     select coalesce(max(file_sequence), 0) + 1, 'ach' from payout_files
     returning ${file_columns}`,
  );
  return fileOf(created.rows[0]!);
}

/** Where the next recorded file's entries start: after the last recorded file's. */
export async function nextEntrySequence(db: pg.Pool | pg.PoolClient): Promise<number> {
  const found = await db.query<{ next: string }>(
    `select coalesce(max(first_entry_sequence + entry_count), 0) as next from payout_files where status <> 'COLLECTING'`,
  );
  return Number(found.rows[0]!.next);
}

/**
 * Fixes a collected file before anything is uploaded, in one transaction: its first entry
 * sequence (the durable counter), creation time, effective date, name, and its entries with
 * their trace numbers, as the rail built them. Refused (an Error, retried) when another file was
 * recorded since the caller read the counter. A file already recorded is left as it was.
 */
export async function recordFile(
  client: pg.PoolClient,
  file: {
    fileSequence: number;
    firstEntrySequence: number;
    fileCreatedAt: Date;
    effectiveDate: string;
    fileName: string;
    entries: readonly Omit<PayoutFileEntry, 'position'>[];
  },
): Promise<void> {
  // One recording at a time: the entry counter is read and advanced under this lock.
  await client.query('lock table payout_files in share row exclusive mode');
  const current = await client.query<{ status: PayoutFileStatus }>(
    'select status from payout_files where file_sequence = $1::bigint for update',
    [file.fileSequence],
  );
  if (current.rows[0]?.status !== 'COLLECTING') return;
  const next = await nextEntrySequence(client);
  if (next !== file.firstEntrySequence)
    throw new Error(
      `file ${file.fileSequence} was built from entry ${file.firstEntrySequence}, but the counter is at ${next}`,
    );
  await client.query(
    `update payout_files set status = 'RECORDED', first_entry_sequence = $2::bigint, entry_count = $3::int,
            total_minor = $4::bigint, file_created_at = $5::timestamptz, effective_date = $6::date, file_name = $7::text,
            recorded_at = now()
      where file_sequence = $1::bigint`,
    [
      file.fileSequence,
      file.firstEntrySequence,
      file.entries.length,
      file.entries.reduce((total, entry) => total + entry.amountMinor, 0n).toString(),
      file.fileCreatedAt,
      file.effectiveDate,
      file.fileName,
    ],
  );
  await client.query(
    `insert into payout_file_entries (file_sequence, position, payout_id, user_id, amount, trace_number)
     select $1::bigint, e.position - 1, e.payout_id, e.user_id, e.amount, e.trace_number
       from unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) with ordinality
         as e(payout_id, user_id, amount, trace_number, position)`,
    [
      file.fileSequence,
      file.entries.map((entry) => entry.payoutId),
      file.entries.map((entry) => entry.userId),
      file.entries.map((entry) => entry.amountMinor.toString()),
      file.entries.map((entry) => entry.traceNumber),
    ],
  );
}

/** A file collected with no payout (all were canceled in between): dropped, so its sequence is reused. */
export async function dropEmptyFile(pool: pg.Pool, fileSequence: number): Promise<void> {
  await pool.query(`delete from payout_files where file_sequence = $1::bigint and status = 'COLLECTING'`, [
    fileSequence,
  ]);
}

export async function findFile(pool: pg.Pool, fileSequence: number): Promise<PayoutFile | undefined> {
  const found = await pool.query<FileRow>(`select ${file_columns} from payout_files where file_sequence = $1::bigint`, [
    fileSequence,
  ]);
  return found.rows[0] && fileOf(found.rows[0]);
}

/** The file that carried the entry with this trace number. */
export async function fileOfTraceNumber(pool: pg.Pool, traceNumber: string): Promise<PayoutFile | undefined> {
  const found = await pool.query<FileRow>(
    `select ${file_columns} from payout_files
      where file_sequence = (select file_sequence from payout_file_entries where trace_number = $1::text)`,
    [traceNumber],
  );
  return found.rows[0] && fileOf(found.rows[0]);
}

export async function fileEntries(pool: pg.Pool | pg.PoolClient, fileSequence: number): Promise<PayoutFileEntry[]> {
  const found = await pool.query<{
    position: number;
    payout_id: string;
    user_id: string;
    amount: string;
    trace_number: string;
  }>(
    `select position, payout_id, user_id, amount, trace_number from payout_file_entries
      where file_sequence = $1::bigint order by position`,
    [fileSequence],
  );
  return found.rows.map((row) => ({
    position: row.position,
    payoutId: row.payout_id,
    userId: row.user_id,
    amountMinor: BigInt(row.amount),
    traceNumber: row.trace_number,
  }));
}

/** The bank has the file (a first upload, or one it recognized as a duplicate). */
export async function markUploaded(pool: pg.Pool, fileSequence: number, bankFileId: string): Promise<void> {
  await pool.query(
    `update payout_files set status = 'UPLOADED', bank_file_id = $2::text, uploaded_at = coalesce(uploaded_at, now())
      where file_sequence = $1::bigint and status in ('RECORDED', 'UPLOADED')`,
    [fileSequence, bankFileId],
  );
}

/** The bank refused the file whole: its payouts fail and their holds are given back. */
export async function markRefused(pool: pg.Pool, fileSequence: number, refusal: string): Promise<void> {
  await pool.query(
    `update payout_files set status = 'REFUSED', refusal = $2::text where file_sequence = $1::bigint and status = 'RECORDED'`,
    [fileSequence, refusal.slice(0, 1000)],
  );
}

/** Every payout of the file heard how its upload ended. */
export async function markAnnounced(pool: pg.Pool, fileSequence: number): Promise<void> {
  await pool.query(
    `update payout_files set announced_at = coalesce(announced_at, now())
      where file_sequence = $1::bigint and status in ('UPLOADED', 'REFUSED')`,
    [fileSequence],
  );
}

/** Files the bank has and has not finished settling, oldest first. */
export async function filesAwaitingSettlement(pool: pg.Pool, limit: number): Promise<PayoutFile[]> {
  const found = await pool.query<FileRow>(
    `select ${file_columns} from payout_files where status = 'UPLOADED' order by file_sequence limit $1::int`,
    [limit],
  );
  return found.rows.map(fileOf);
}

/** Entries of a file whose settlement was not yet signaled to their payouts. */
export async function unsignaledSettlements(pool: pg.Pool, fileSequence: number): Promise<PayoutFileEntry[]> {
  const entries = await fileEntries(pool, fileSequence);
  const signaled = await pool.query<{ payout_id: string }>(
    `select payout_id from payout_file_entries where file_sequence = $1::bigint and settled_signaled_at is not null`,
    [fileSequence],
  );
  const done = new Set(signaled.rows.map((row) => row.payout_id));
  return entries.filter((entry) => !done.has(entry.payoutId));
}

export async function markSettlementSignaled(pool: pg.Pool, payoutIds: readonly string[]): Promise<void> {
  await pool.query(
    `update payout_file_entries set settled_signaled_at = now() where payout_id = any($1::text[]) and settled_signaled_at is null`,
    [[...payoutIds]],
  );
}

export async function markFileSettled(pool: pg.Pool, fileSequence: number): Promise<void> {
  await pool.query(
    `update payout_files set status = 'SETTLED' where file_sequence = $1::bigint and status = 'UPLOADED'`,
    [fileSequence],
  );
}

/** The payout whose entry carried this trace number, if any of ours did. */
export async function entryByTraceNumber(pool: pg.Pool, traceNumber: string): Promise<PayoutFileEntry | undefined> {
  const found = await pool.query<{ position: number; payout_id: string; user_id: string; amount: string }>(
    'select position, payout_id, user_id, amount from payout_file_entries where trace_number = $1::text',
    [traceNumber],
  );
  const row = found.rows[0];
  return (
    row && {
      position: row.position,
      payoutId: row.payout_id,
      userId: row.user_id,
      amountMinor: BigInt(row.amount),
      traceNumber,
    }
  );
}
