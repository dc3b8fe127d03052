import { isInteger, parse } from 'lossless-json';
import { z } from 'zod';
import { settlement_line_kinds, type SettlementLine } from '../domain/settlement-match';

/**
 * The daily statement of our settlement account, as our bank serves it (bank/statement.ts:
 * `GET /statements/{date}`, bearer token). Amounts arrive as JSON integers and are read as bigint
 * (lossless-json), never through a double. A real bank's BAI2 or camt.053 statement would be read
 * into the same `BankStatement` here, leaving settlement reconciliation unchanged.
 */

export interface BankEndpoint {
  url: string;
  token: string;
}

export interface BankStatement {
  date: string;
  currency: string;
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  lines: SettlementLine[];
}

const statementSchema = z.object({
  date: z.iso.date(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  opening_balance_minor: z.bigint(),
  closing_balance_minor: z.bigint(),
  lines: z.array(
    z.object({
      kind: z.enum(settlement_line_kinds),
      trace_number: z.string().regex(/^\d{15}$/),
      amount_minor: z.bigint(),
      posted_at: z.iso.datetime(),
    }),
  ),
});

/** A statement the bank could not give, or gave in a shape we cannot read: the run fails and is retried. */
export class BankStatementUnavailable extends Error {
  override name = 'BankStatementUnavailable';
}

const statement_timeout_ms = 30_000;

export async function fetchBankStatement(bank: BankEndpoint, date: string): Promise<BankStatement> {
  const response = await fetch(`${bank.url}/statements/${date}`, {
    headers: { authorization: `Bearer ${bank.token}` },
    signal: AbortSignal.timeout(statement_timeout_ms),
  });
  const text = await response.text();
  if (!response.ok)
    throw new BankStatementUnavailable(`the bank answered ${response.status} for ${date}: ${text.slice(0, 200)}`);
  const parsed = statementSchema.safeParse(
    parse(text, null, (value) => (isInteger(value) ? BigInt(value) : Number(value))),
  );
  if (!parsed.success)
    throw new BankStatementUnavailable(`the statement of ${date} is not readable: ${z.prettifyError(parsed.error)}`);
  const statement = parsed.data;
  return {
    date: statement.date,
    currency: statement.currency,
    openingBalanceMinor: statement.opening_balance_minor,
    closingBalanceMinor: statement.closing_balance_minor,
    lines: statement.lines.map((line) => ({
      kind: line.kind,
      traceNumber: line.trace_number,
      amountMinor: line.amount_minor,
      postedAt: line.posted_at,
    })),
  };
}
