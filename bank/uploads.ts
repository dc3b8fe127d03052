import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { AchFiles } from '../rails/ach/ach-files';
import { transaction_codes, type NachaEntry, type NachaFile } from '../rails/ach/nacha-file';
import { RailFileRefused } from '../rails/rail';
import { BankError } from './bank-errors';
import { withTransaction } from './database';
import { scheduledReturnOf } from './return-matrix';
import { applyCreditReturns, isCreditReturnFile } from './credit-returns';

export interface UploadDeps {
  pool: pg.Pool;
  files: AchFiles;
  bankRouting: string;
  bankDayMs: number;
}

export interface UploadAnswer {
  fileId: string;
  duplicate: boolean;
  entryCount: number;
  totalMinor: bigint;
}

/**
 * Takes a file from the wallet: recognized by its digest when it came before (nothing is
 * processed twice), else validated by moov-io/ach, checked for what this bank accepts (credits
 * addressed to it), and stored with its entries in one transaction. Entries settle one banking
 * day later; the test matrix decides their returns now, so a restart cannot change them. A file
 * of returns of the credits this bank sent the wallet marks those credits returned instead
 * (bank/credit-returns.ts), in the same transaction.
 */
export async function receiveFile(deps: UploadDeps, fileName: string, contents: string): Promise<UploadAnswer> {
  const sha256 = createHash('sha256').update(contents).digest('hex');
  const known = await findFile(deps.pool, sha256);
  if (known) return { ...known, duplicate: true };
  const file = await parseOrRefuse(deps.files, contents);
  const creditReturns = isCreditReturnFile(file.batches.flatMap((batch) => batch.entries));
  const entries = creditReturns ? returnEntries(file, deps.bankRouting) : acceptedEntries(file, deps.bankRouting);
  const totalMinor = entries.reduce((total, entry) => total + entry.amountMinor, 0n);
  return withTransaction(deps.pool, async (client) => {
    const inserted = await client.query<{ file_id: string }>(
      `insert into received_files (sha256, file_name, contents, entry_count, total_credit_minor)
       values ($1, $2, $3, $4::int, $5::bigint) on conflict (sha256) do nothing returning file_id`,
      [sha256, fileName, contents, entries.length, totalMinor.toString()],
    );
    // The same file racing itself: the other upload stored it first.
    if (inserted.rowCount === 0) return { ...(await findFile(client, sha256))!, duplicate: true };
    const fileId = inserted.rows[0]!.file_id;
    if (creditReturns) await applyCreditReturns(client, fileId, entries);
    else await insertEntries(client, fileId, entries, deps.bankDayMs);
    return { fileId, duplicate: false, entryCount: entries.length, totalMinor };
  });
}

async function findFile(db: pg.Pool | pg.PoolClient, sha256: string) {
  const found = await db.query<{ file_id: string; entry_count: number; total_credit_minor: string }>(
    'select file_id, entry_count, total_credit_minor from received_files where sha256 = $1',
    [sha256],
  );
  const row = found.rows[0];
  return row && { fileId: row.file_id, entryCount: row.entry_count, totalMinor: BigInt(row.total_credit_minor) };
}

async function parseOrRefuse(files: AchFiles, contents: string): Promise<NachaFile> {
  try {
    return await files.parse(contents);
  } catch (error) {
    if (error instanceof RailFileRefused)
      throw new BankError('file_refused', `the file is not valid NACHA: ${error.message}`);
    throw error;
  }
}

function requireAddressedTo(file: NachaFile, bankRouting: string): void {
  if (file.destinationRouting !== bankRouting)
    throw new BankError(
      'file_refused',
      `the file is addressed to ${file.destinationRouting}, not to this bank (${bankRouting})`,
    );
}

/** Returns of the credits this bank sent: checked against those credits when stored. */
function returnEntries(file: NachaFile, bankRouting: string): NachaEntry[] {
  requireAddressedTo(file, bankRouting);
  return file.batches.flatMap((batch) => batch.entries);
}

/** This bank takes PPD credits addressed to it (our payouts); anything else refuses the file. */
function acceptedEntries(file: NachaFile, bankRouting: string): NachaEntry[] {
  requireAddressedTo(file, bankRouting);
  const entries = file.batches.flatMap((batch) => batch.entries);
  if (entries.length === 0) throw new BankError('file_refused', 'the file has no entries');
  for (const entry of entries) {
    const credit =
      entry.transactionCode === transaction_codes.checkingCredit ||
      entry.transactionCode === transaction_codes.savingsCredit;
    if (!credit || entry.return)
      throw new BankError(
        'file_refused',
        `entry ${entry.traceNumber}: only credits (22, 32) are taken, not ${entry.transactionCode}`,
      );
    if (entry.amountMinor <= 0n) throw new BankError('file_refused', `entry ${entry.traceNumber} has no amount`);
  }
  if (new Set(entries.map(({ traceNumber }) => traceNumber)).size !== entries.length)
    throw new BankError('file_refused', 'the file uses a trace number twice');
  return entries;
}

async function insertEntries(client: pg.PoolClient, fileId: string, entries: NachaEntry[], bankDayMs: number) {
  const returns = entries.map((entry) => scheduledReturnOf(entry.accountNumber));
  try {
    await client.query(
      `insert into entries (trace_number, file_id, transaction_code, routing_number, account_number, individual_name,
                            amount_minor, settle_at, return_code, return_at)
       select e.trace_number, $1::bigint, e.transaction_code, e.routing_number, e.account_number, e.individual_name,
              e.amount_minor, now() + make_interval(secs => $2::float8 / 1000),
              e.return_code, now() + make_interval(secs => $2::float8 * e.return_days / 1000)
       from unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::int[])
         as e(trace_number, transaction_code, routing_number, account_number, individual_name, amount_minor, return_code, return_days)`,
      [
        fileId,
        bankDayMs,
        entries.map((entry) => entry.traceNumber),
        entries.map((entry) => entry.transactionCode),
        entries.map((entry) => entry.routingNumber),
        entries.map((entry) => entry.accountNumber),
        entries.map((entry) => entry.individualName),
        entries.map((entry) => entry.amountMinor.toString()),
        // A return before settlement is due at the settlement time itself, one after it a day later.
        returns.map((scheduled) => scheduled?.code ?? null),
        returns.map((scheduled) => (scheduled === undefined ? null : scheduled.when === 'after_settlement' ? 2 : 1)),
      ],
    );
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new BankError('trace_number_reused', 'an entry of this file reuses the trace number of an earlier file');
    throw error;
  }
}
