import type pg from 'pg';

/**
 * The daily statement of the wallet's settlement account at the bank: the day's lines (a payout
 * settled takes money out, its return and an incoming credit bring money in, an incoming credit
 * the wallet returned takes it out again) between the opening
 * and closing balance. A day is a UTC calendar day, whatever BANK_DAY says: with 30 s banking
 * days one statement covers thousands of them, as a real statement covers one business day.
 */
export interface StatementLine {
  lineId: string;
  kind: 'payout_settled' | 'payout_returned' | 'incoming_credit' | 'incoming_credit_returned';
  traceNumber: string;
  amountMinor: bigint;
  postedAt: string;
}

export interface Statement {
  date: string;
  currency: 'USD';
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  lines: StatementLine[];
}

/** The most lines one statement answer carries; a day with more says so instead of cutting silently. */
const statement_lines_max = 100_000;

export async function statementOf(pool: pg.Pool, date: string): Promise<Statement> {
  const opening = await pool.query<{ balance: string }>(
    "select coalesce(sum(amount_minor), 0)::text as balance from settlement_lines where posted_at < ($1::date)::timestamp at time zone 'UTC'",
    [date],
  );
  const lines = await pool.query<{
    line_id: string;
    kind: StatementLine['kind'];
    trace_number: string;
    amount_minor: string;
    posted_at: Date;
  }>(
    `select line_id, kind, trace_number, amount_minor, posted_at from settlement_lines
     where posted_at >= ($1::date)::timestamp at time zone 'UTC' and posted_at < ($1::date + 1)::timestamp at time zone 'UTC'
     order by line_id limit $2`,
    [date, statement_lines_max + 1],
  );
  if (lines.rows.length > statement_lines_max)
    throw new Error(`the statement of ${date} has more than ${statement_lines_max} lines`);
  const openingBalanceMinor = BigInt(opening.rows[0]!.balance);
  const statementLines = lines.rows.map((row) => ({
    lineId: row.line_id,
    kind: row.kind,
    traceNumber: row.trace_number,
    amountMinor: BigInt(row.amount_minor),
    postedAt: row.posted_at.toISOString(),
  }));
  return {
    date,
    currency: 'USD',
    openingBalanceMinor,
    closingBalanceMinor: statementLines.reduce((balance, line) => balance + line.amountMinor, openingBalanceMinor),
    lines: statementLines,
  };
}
