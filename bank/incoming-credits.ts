import type pg from 'pg';
import { entry_amount_max_minor } from '../rails/ach/nacha-file';
import { BankError } from './bank-errors';
import { withTransaction } from './database';
import { nextTraceNumbers, outside_odfi_routing } from './outgoing-files';

export interface IncomingCreditRequest {
  accountNumber: string;
  amountMinor: bigint;
  originatorName: string;
}

/**
 * Someone outside pays into one of the wallet's virtual accounts (the test and development way
 * money arrives): the money reaches our settlement account now, and the entry goes to the
 * wallet in the next credits file. Whether the account is a wallet's is the wallet's to decide.
 */
export async function receiveIncomingCredit(pool: pg.Pool, request: IncomingCreditRequest): Promise<string> {
  if (!/^[0-9]{4,17}$/.test(request.accountNumber))
    throw new BankError('invalid_request', 'account_number is 4 to 17 digits');
  if (request.amountMinor <= 0n || request.amountMinor > entry_amount_max_minor)
    throw new BankError('invalid_request', `amount_minor is 1 to ${entry_amount_max_minor} cents`);
  const name = request.originatorName.replace(/[^\x20-\x7e]/g, '').slice(0, 22);
  if (name.trim() === '') throw new BankError('invalid_request', 'originator_name needs printable ASCII');
  return withTransaction(pool, async (client) => {
    const [traceNumber] = await nextTraceNumbers(client, outside_odfi_routing, 1);
    await client.query(
      'insert into incoming_credits (trace_number, account_number, amount_minor, originator_name) values ($1, $2, $3::bigint, $4)',
      [traceNumber, request.accountNumber, request.amountMinor.toString(), name],
    );
    await client.query(
      "insert into settlement_lines (kind, trace_number, amount_minor) values ('incoming_credit', $1, $2::bigint)",
      [traceNumber, request.amountMinor.toString()],
    );
    return traceNumber!;
  });
}

/** Where an incoming credit stands: waiting for a file, delivered to the wallet, or returned by it. */
export async function incomingCreditOf(pool: pg.Pool, traceNumber: string) {
  if (!/^\d{15}$/.test(traceNumber)) throw new BankError('not_found', 'no such incoming credit');
  const found = await pool.query<{
    amount_minor: string;
    file_cursor: string | null;
    return_code: string | null;
    returned_at: Date | null;
  }>('select amount_minor, file_cursor, return_code, returned_at from incoming_credits where trace_number = $1::text', [
    traceNumber,
  ]);
  const row = found.rows[0];
  if (!row) throw new BankError('not_found', 'no such incoming credit');
  return {
    traceNumber,
    amountMinor: BigInt(row.amount_minor),
    status: row.return_code ? 'RETURNED' : row.file_cursor ? 'DELIVERED' : 'PENDING',
    fileCursor: row.file_cursor,
    returnCode: row.return_code,
    returnedAt: row.returned_at?.toISOString() ?? null,
  };
}
