import type pg from 'pg';
import { BankError } from './bank-errors';

/** A received file and its entries' progress; account numbers show their last four digits only. */
export async function fileStatusOf(pool: pg.Pool, fileId: string) {
  if (!/^\d{1,18}$/.test(fileId)) throw new BankError('not_found', 'no such file');
  const file = await pool.query<{
    file_id: string;
    file_name: string;
    received_at: Date;
    entry_count: number;
    total_credit_minor: string;
  }>(
    'select file_id, file_name, received_at, entry_count, total_credit_minor from received_files where file_id = $1::bigint',
    [fileId],
  );
  const row = file.rows[0];
  if (!row) throw new BankError('not_found', 'no such file');
  const entries = await pool.query<{
    trace_number: string;
    account_number: string;
    amount_minor: string;
    status: string;
    return_code: string | null;
    settled_at: Date | null;
    returned_at: Date | null;
  }>(
    `select trace_number, account_number, amount_minor, status, return_code, settled_at, returned_at
     from entries where file_id = $1::bigint order by trace_number`,
    [fileId],
  );
  return {
    fileId: row.file_id,
    fileName: row.file_name,
    receivedAt: row.received_at.toISOString(),
    entryCount: row.entry_count,
    totalMinor: BigInt(row.total_credit_minor),
    entries: entries.rows.map((entry) => ({
      traceNumber: entry.trace_number,
      accountLast4: entry.account_number.slice(-4),
      amountMinor: BigInt(entry.amount_minor),
      status: entry.status,
      // A scheduled return is the bank's secret until it happens.
      returnCode: entry.status === 'RETURNED' ? entry.return_code : null,
      settledAt: entry.settled_at?.toISOString() ?? null,
      returnedAt: entry.returned_at?.toISOString() ?? null,
    })),
  };
}
