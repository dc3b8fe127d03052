import type pg from 'pg';

/**
 * What the bank sent back for payouts, on the reference shard: each return once (keyed by the
 * return entry's own trace number), the files the rail refused, and this reader's cursor over
 * the bank's outgoing-files feed. Pay-ins read the same feed with a cursor of their own.
 */
export type ReturnOutcome = 'received' | 'applied' | 'unknown_trace' | 'closed';

export interface ReceivedReturn {
  returnTraceNumber: string;
  originalTraceNumber: string;
  returnCode: string;
  amountMinor: bigint;
  outcome: ReturnOutcome;
}

/** This module's reader name in bank_feed_cursors. */
const returns_reader = 'payout_returns';

export async function feedCursor(pool: pg.Pool): Promise<string> {
  const found = await pool.query<{ cursor: string }>('select cursor from bank_feed_cursors where reader = $1::text', [
    returns_reader,
  ]);
  return found.rows[0]?.cursor ?? '0';
}

/** Moves the cursor forward only: a slower, older attempt never moves it back. */
export async function advanceFeedCursor(pool: pg.Pool, cursor: string): Promise<void> {
  await pool.query(
    `insert into bank_feed_cursors (reader, cursor) values ($1::text, $2::text)
     on conflict (reader) do update set cursor = excluded.cursor, updated_at = now()
      where bank_feed_cursors.cursor::bigint < excluded.cursor::bigint`,
    [returns_reader, cursor],
  );
}

/** Keeps a return (once, whatever number of times it is delivered); answers it as stored. */
export async function receiveReturn(
  pool: pg.Pool,
  received: Omit<ReceivedReturn, 'outcome'> & { bankCursor: string },
): Promise<ReceivedReturn> {
  await pool.query(
    `insert into payout_returns (return_trace_number, original_trace_number, return_code, amount, bank_cursor)
     values ($1::text, $2::text, $3::text, $4::bigint, $5::text) on conflict (return_trace_number) do nothing`,
    [
      received.returnTraceNumber,
      received.originalTraceNumber,
      received.returnCode,
      received.amountMinor.toString(),
      received.bankCursor,
    ],
  );
  const found = await pool.query<{
    original_trace_number: string;
    return_code: string;
    amount: string;
    outcome: ReturnOutcome;
  }>(
    'select original_trace_number, return_code, amount, outcome from payout_returns where return_trace_number = $1::text',
    [received.returnTraceNumber],
  );
  const row = found.rows[0]!;
  return {
    returnTraceNumber: received.returnTraceNumber,
    originalTraceNumber: row.original_trace_number,
    returnCode: row.return_code,
    amountMinor: BigInt(row.amount),
    outcome: row.outcome,
  };
}

export async function decideReturn(
  pool: pg.Pool,
  returnTraceNumber: string,
  outcome: Exclude<ReturnOutcome, 'received'>,
  payoutId: string | null,
): Promise<void> {
  await pool.query(
    `update payout_returns set outcome = $2::text, payout_id = $3::text, decided_at = now()
      where return_trace_number = $1::text and outcome = 'received'`,
    [returnTraceNumber, outcome, payoutId],
  );
}

/** A file from the bank the rail refused: kept with its reason, and skipped. */
export async function recordRefusedBankFile(
  pool: pg.Pool,
  refused: { bankCursor: string; fileName: string; reason: string },
): Promise<void> {
  await pool.query(
    `insert into refused_bank_files (bank_cursor, file_name, reason) values ($1::text, $2::text, $3::text)
     on conflict (bank_cursor) do nothing`,
    [refused.bankCursor, refused.fileName.slice(0, 200), refused.reason.slice(0, 1000)],
  );
}
