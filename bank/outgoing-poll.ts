import type pg from 'pg';
import type { Faults } from './faults';

/**
 * The wallet reads the bank's files by poll: GET /outgoing-files?after=<cursor> answers the next
 * files in cursor order and the cursor to ask from next. A poll, not callbacks, because the wallet
 * then needs no public endpoint, decides its own pace, and after any crash simply asks again from
 * the cursor it stored with what it processed; delivery is at least once, and the wallet is
 * idempotent by trace number. A file held back (late delivery) also holds back every file after
 * it, so a cursor never skips a file that appears later.
 */
export interface DeliveredFile {
  cursor: string;
  kind: 'returns' | 'credits';
  fileName: string;
  createdAt: string;
  contents: string;
}

export const outgoing_page_size_max = 100;

export async function pollOutgoingFiles(
  pool: pg.Pool,
  after: bigint,
  limit: number,
  faults: Faults,
): Promise<{ files: DeliveredFile[]; nextCursor: string }> {
  // Duplicate delivery sends the file at the cursor again, as a bank resending its last file does.
  const from = faults.duplicateDelivery && after > 0n ? after - 1n : after;
  const rows = await pool.query<{
    cursor: string;
    kind: DeliveredFile['kind'];
    file_name: string;
    created_at: Date;
    contents: string;
  }>(
    `select cursor, kind, file_name, created_at, contents from outgoing_files
     where cursor > $1::bigint
       and cursor < coalesce((select min(cursor) from outgoing_files where deliver_after > now()), 9223372036854775807)
     order by cursor limit $2::int`,
    [from.toString(), limit],
  );
  const files = rows.rows.map((row) => ({
    cursor: row.cursor,
    kind: row.kind,
    fileName: row.file_name,
    createdAt: row.created_at.toISOString(),
    contents: row.contents,
  }));
  const last = files.at(-1)?.cursor;
  return { files, nextCursor: last !== undefined && BigInt(last) > after ? last : after.toString() };
}
