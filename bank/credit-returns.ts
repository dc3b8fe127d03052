import type pg from 'pg';
import type { NachaEntry } from '../rails/ach/nacha-file';
import { transaction_codes } from '../rails/ach/nacha-file';
import { BankError } from './bank-errors';

/**
 * A file from the wallet that returns credits this bank sent it (R02 account closed, R03 no
 * account): each return must name, by its original trace number, a credit the bank delivered in
 * a file, for that credit's account and amount, not returned before. Anything else refuses the
 * whole file and changes nothing, as a bank refuses a return for an entry it never sent. The
 * money goes back to the originator: a line out of our settlement account, once per credit.
 */

/** True when every entry is a return of a credit (21, 31 with addenda 99): such a file goes here. */
export function isCreditReturnFile(entries: readonly NachaEntry[]): boolean {
  return (
    entries.length > 0 &&
    entries.every(
      (entry) =>
        entry.return !== undefined &&
        (entry.transactionCode === transaction_codes.checkingCreditReturn ||
          entry.transactionCode === transaction_codes.savingsCreditReturn),
    )
  );
}

/** Marks the returned credits in the transaction that stored the file (fileId); throws BankError when one cannot be. */
export async function applyCreditReturns(client: pg.PoolClient, fileId: string, entries: readonly NachaEntry[]) {
  const originals = entries.map((entry) => entry.return!.originalTraceNumber);
  if (new Set(originals).size !== originals.length)
    throw new BankError('file_refused', 'the file returns the same entry twice');
  const marked = await client.query<{ trace_number: string }>(
    `with returned as (
       update incoming_credits c set return_code = r.code, returned_at = now(), return_file_id = $1::bigint
         from unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) as r(original, code, account_number, amount_minor)
        where c.trace_number = r.original and c.account_number = r.account_number and c.amount_minor = r.amount_minor
          and c.file_cursor is not null and c.return_code is null
       returning c.trace_number, c.amount_minor)
     insert into settlement_lines (kind, trace_number, amount_minor)
     select 'incoming_credit_returned', trace_number, -amount_minor from returned
     returning trace_number`,
    [
      fileId,
      originals,
      entries.map((entry) => entry.return!.code),
      entries.map((entry) => entry.accountNumber),
      entries.map((entry) => entry.amountMinor.toString()),
    ],
  );
  if (marked.rowCount !== entries.length) {
    const matched = new Set(marked.rows.map((row) => row.trace_number));
    const first = originals.find((original) => !matched.has(original));
    throw new BankError(
      'file_refused',
      `entry ${first} returns no credit this bank sent (unknown, not yet delivered, another account or amount, or already returned)`,
    );
  }
}
