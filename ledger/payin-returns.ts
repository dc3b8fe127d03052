import type pg from 'pg';
import { withPoolTransaction } from '../db/pool-transaction';

/**
 * Return files of received credits (R02, R03) on the reference shard. A file is recorded whole,
 * with its entries claimed, before it is uploaded; uploading marks it and its credits returned.
 * A crash between the two leaves a recorded file not yet uploaded, which goes first next time,
 * byte for byte the same (the bank recognizes it by its digest if it had arrived).
 */

export interface ReturnToSend {
  traceNumber: string;
  accountNumber: string;
  amountMinor: bigint;
  returnCode: string;
}

export interface RecordedReturnFile {
  fileSequence: number;
  fileName: string;
  contents: string;
}

/** The oldest return file recorded and not yet accepted by the bank. */
export async function unsentReturnFile(reference: pg.Pool): Promise<RecordedReturnFile | undefined> {
  const found = await reference.query<{ file_sequence: string; file_name: string; contents: string }>(
    `select file_sequence, file_name, contents from payin_return_files
      where uploaded_at is null and refused_at is null order by file_sequence limit 1`,
  );
  const row = found.rows[0];
  return row && { fileSequence: Number(row.file_sequence), fileName: row.file_name, contents: row.contents };
}

/** Credits decided for return and in no file yet, oldest trace number first. */
export async function returnsToSend(reference: pg.Pool, limit: number): Promise<ReturnToSend[]> {
  const found = await reference.query<{
    trace_number: string;
    account_number: string;
    amount: string;
    return_code: string;
  }>(
    `select trace_number, account_number, amount, return_code from payin_credits
      where status = 'return_pending' and return_file_sequence is null order by trace_number limit $1::int`,
    [limit],
  );
  return found.rows.map((row) => ({
    traceNumber: row.trace_number,
    accountNumber: row.account_number,
    amountMinor: BigInt(row.amount),
    returnCode: row.return_code,
  }));
}

/** A new file's sequence and one ascending entry sequence per return (their trace numbers). */
export async function allocateReturnFile(
  reference: pg.Pool,
  entryCount: number,
): Promise<{ fileSequence: number; entrySequences: number[] }> {
  const file = await reference.query<{ n: string }>("select nextval('payin_return_file_sequence') as n");
  const entries = await reference.query<{ n: string }>(
    "select nextval('payin_return_entry_sequence') as n from generate_series(1, $1::int)",
    [entryCount],
  );
  return {
    fileSequence: Number(file.rows[0]!.n),
    entrySequences: entries.rows.map((row) => Number(row.n)).sort((a, b) => a - b),
  };
}

/** Stores a built file and claims its credits for it, in one transaction: all of them or nothing. */
export async function recordReturnFile(
  reference: pg.Pool,
  file: RecordedReturnFile & { totalMinor: bigint; traceNumbers: readonly string[] },
): Promise<void> {
  await withPoolTransaction(reference, async (client) => {
    await client.query(
      `insert into payin_return_files (file_sequence, file_name, contents, entry_count, total_minor)
       values ($1::bigint, $2::text, $3::text, $4::int, $5::bigint)`,
      [file.fileSequence, file.fileName, file.contents, file.traceNumbers.length, file.totalMinor.toString()],
    );
    const claimed = await client.query(
      `update payin_credits set return_file_sequence = $1::bigint
        where trace_number = any($2::text[]) and status = 'return_pending' and return_file_sequence is null`,
      [file.fileSequence, file.traceNumbers],
    );
    // Only one poller runs at a time (the schedule skips overlaps); should two ever race, the loser's file is not kept.
    if (claimed.rowCount !== file.traceNumbers.length)
      throw new Error(`return file ${file.fileName}: its entries were claimed meanwhile`);
  });
}

/** The bank took the file: it and its credits are returned. */
export async function markReturnFileUploaded(
  reference: pg.Pool,
  fileSequence: number,
  bankFileId: string,
): Promise<number> {
  return withPoolTransaction(reference, async (client) => {
    await client.query(
      `update payin_return_files set uploaded_at = now(), bank_file_id = $2::text
        where file_sequence = $1::bigint and uploaded_at is null`,
      [fileSequence, bankFileId],
    );
    const returned = await client.query(
      `update payin_credits set status = 'returned'
        where return_file_sequence = $1::bigint and status = 'return_pending'`,
      [fileSequence],
    );
    return returned.rowCount ?? 0;
  });
}

/** The bank refused the file: set aside with its reason (its credits stay return_pending in it, for a person). */
export async function markReturnFileRefused(reference: pg.Pool, fileSequence: number, refusal: string): Promise<void> {
  await reference.query(
    `update payin_return_files set refused_at = now(), refusal = $2::text
      where file_sequence = $1::bigint and uploaded_at is null and refused_at is null`,
    [fileSequence, refusal.slice(0, 2000)],
  );
}
