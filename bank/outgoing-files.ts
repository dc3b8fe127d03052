import type pg from 'pg';
import type { AchFiles } from '../rails/ach/ach-files';
import { transaction_codes, type NachaEntry, type NachaFile } from '../rails/ach/nacha-file';
import { fileIdModifierOf, nachaDateOf, traceNumberOf } from '../rails/ach/trace-numbers';
import { withTransaction } from './database';

/**
 * The bank an incoming credit comes from (a valid ABA number, not ours): the simulated outside
 * world has one bank, whose prefix the credits' trace numbers carry.
 */
export const outside_odfi_routing = '091000019';

/** What a bank file names as its sender and receiver. */
export interface BankIdentity {
  routing: string;
  name: string;
}

/** The most entries one outgoing file carries; more wait for the next tick. */
const file_entries_max = 5_000;

/**
 * Puts what the wallet has not been sent yet into files for it: one of returns (entries the
 * matrix returned) and one of incoming credits (to its virtual accounts). A file is built by
 * moov-io/ach outside the transaction, then stored and its entries marked in one transaction
 * that claims only entries still unmarked, so a file is never stored with entries another
 * already carries. Returns the number of files made.
 */
export async function makeOutgoingFiles(pool: pg.Pool, files: AchFiles, bank: BankIdentity): Promise<number> {
  return (await makeReturnFile(pool, files, bank)) + (await makeCreditFile(pool, files, bank));
}

interface PendingEntry {
  trace_number: string;
  account_number: string;
  routing_number: string;
  individual_name: string;
  amount_minor: string;
  transaction_code: number;
  return_code: string;
}

async function makeReturnFile(pool: pg.Pool, files: AchFiles, bank: BankIdentity): Promise<number> {
  const pending = await pool.query<PendingEntry>(
    `select trace_number, account_number, routing_number, individual_name, amount_minor, transaction_code, return_code
     from entries where status = 'RETURNED' and return_file_cursor is null order by routing_number, trace_number limit $1`,
    [file_entries_max],
  );
  if (pending.rows.length === 0) return 0;
  // A return is originated by the bank that received the entry: one batch per such bank, whose
  // routing prefix the batch header and its trace numbers carry (NACHA; moov checks it).
  const traces: string[] = [];
  for (const row of pending.rows) traces.push(...(await nextTraceNumbers(pool, row.routing_number, 1)));
  const entries: (NachaEntry & { odfiRouting: string })[] = pending.rows.map((row, index) => ({
    odfiRouting: row.routing_number,
    transactionCode:
      row.transaction_code === transaction_codes.savingsCredit
        ? transaction_codes.savingsCreditReturn
        : transaction_codes.checkingCreditReturn,
    // A return goes back to the bank that originated the entry: this bank, for the wallet.
    routingNumber: bank.routing,
    accountNumber: row.account_number,
    amountMinor: BigInt(row.amount_minor),
    individualName: row.individual_name,
    identificationNumber: '',
    traceNumber: traces[index]!,
    return: {
      code: row.return_code,
      originalTraceNumber: row.trace_number,
      originalRoutingPrefix: row.routing_number.slice(0, 8),
    },
  }));
  const batches = groupBy(entries, ({ odfiRouting }) => odfiRouting).map(([odfiRouting, group]) => ({
    companyName: 'RETURNS',
    odfiRouting,
    entries: group.map(({ odfiRouting: _routing, ...entry }) => entry),
  }));
  await storeFile(pool, files, bank, 'returns', batches, (client, cursor) =>
    client.query(
      'update entries set return_file_cursor = $1::bigint where trace_number = any($2::text[]) and return_file_cursor is null',
      [cursor, pending.rows.map(({ trace_number }) => trace_number)],
    ),
  );
  return 1;
}

async function makeCreditFile(pool: pg.Pool, files: AchFiles, bank: BankIdentity): Promise<number> {
  const pending = await pool.query<{
    trace_number: string;
    account_number: string;
    amount_minor: string;
    originator_name: string;
  }>(
    `select trace_number, account_number, amount_minor, originator_name from incoming_credits
     where file_cursor is null order by trace_number limit $1`,
    [file_entries_max],
  );
  if (pending.rows.length === 0) return 0;
  // One batch per originator: a batch header names who sends the money, as in a real credit file.
  const batches = groupBy(pending.rows, (row) => row.originator_name).map(([companyName, rows]) => ({
    companyName,
    odfiRouting: outside_odfi_routing,
    entries: rows.map((row) => ({
      transactionCode: transaction_codes.checkingCredit,
      routingNumber: bank.routing,
      accountNumber: row.account_number,
      amountMinor: BigInt(row.amount_minor),
      individualName: 'WALLET CUSTOMER',
      identificationNumber: '',
      traceNumber: row.trace_number,
    })),
  }));
  const stored = await storeFile(pool, files, bank, 'credits', batches, (client, cursor) =>
    client.query(
      'update incoming_credits set file_cursor = $1::bigint where trace_number = any($2::text[]) and file_cursor is null',
      [cursor, pending.rows.map(({ trace_number }) => trace_number)],
    ),
  );
  return 1 + (await resendIfDuplicating(pool, files, bank, batches, stored));
}

/**
 * Under duplicate delivery, a credits file is sent again at once under a new file id and cursor
 * (recorded as resending the first), as a real bank re-sending the same entries would; the
 * entries stay marked with the first file. Returns the files made (0 or 1).
 */
async function resendIfDuplicating(
  pool: pg.Pool,
  files: AchFiles,
  bank: BankIdentity,
  batches: BankBatch[],
  original: string,
): Promise<number> {
  const duplicating = await pool.query<{ on: boolean }>('select duplicate_delivery as on from faults');
  if (duplicating.rows[0]?.on !== true) return 0;
  await storeFile(pool, files, bank, 'credits', batches, { resends: original });
  return 1;
}

/** Trace numbers of entries the bank originates itself (returns and credits it sends on). */
export async function nextTraceNumbers(
  db: pg.Pool | pg.PoolClient,
  originRouting: string,
  count: number,
): Promise<string[]> {
  const rows = await db.query<{ sequence: string }>(
    "select nextval('bank_trace_sequence') as sequence from generate_series(1, $1::int)",
    [count],
  );
  return rows.rows.map(({ sequence }) => traceNumberOf(originRouting, Number(sequence)));
}

async function storeFile(
  pool: pg.Pool,
  files: AchFiles,
  bank: BankIdentity,
  kind: 'returns' | 'credits',
  batches: BankBatch[],
  /** Marks the file's entries as sent in it; a resend names the file it repeats instead (its entries stay the first's). */
  sent: ((client: pg.PoolClient, cursor: string) => Promise<pg.QueryResult>) | { resends: string },
): Promise<string> {
  const sequence = Number(
    (await pool.query<{ n: string }>("select nextval('outgoing_file_sequence') as n")).rows[0]!.n,
  );
  const contents = await files.build(bankFile(bank, sequence, batches));
  return withTransaction(pool, async (client) => {
    const resends = typeof sent === 'function' ? null : sent.resends;
    const stored = await client.query<{ cursor: string }>(
      `insert into outgoing_files (kind, file_name, contents, deliver_after, resends)
       select $1, $2, $3, now() + make_interval(secs => late_delivery_ms::float8 / 1000), $4::bigint from faults
       returning cursor`,
      [kind, `${kind}-${String(sequence).padStart(8, '0')}.ach`, contents, resends],
    );
    const cursor = stored.rows[0]!.cursor;
    if (typeof sent !== 'function') return cursor;
    const marked = await sent(client, cursor);
    // Only one bank process makes files; should two ever race, the loser's file is not kept.
    const entryCount = batches.reduce((count, batch) => count + batch.entries.length, 0);
    if (marked.rowCount !== entryCount) throw new Error(`outgoing ${kind} file: entries were claimed meanwhile`);
    return cursor;
  });
}

interface BankBatch {
  companyName: string;
  /** The bank that originates the batch's entries; its prefix starts their trace numbers. */
  odfiRouting: string;
  entries: NachaEntry[];
}

/** Groups in first-seen order (the rows come sorted, so each group keeps ascending trace numbers). */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return [...groups];
}

function bankFile(bank: BankIdentity, sequence: number, batches: BankBatch[]): NachaFile {
  const created = nachaDateOf(new Date());
  return {
    destinationRouting: bank.routing,
    originRouting: bank.routing,
    destinationName: 'Wallet',
    originName: bank.name,
    creationDate: created.date,
    creationTime: created.time,
    idModifier: fileIdModifierOf(sequence),
    batches: batches.map(({ companyName, odfiRouting, entries }) => ({
      companyName: companyName.slice(0, 16),
      companyIdentification: `1${odfiRouting}`,
      entryDescription: entries[0]?.return ? 'RETURN' : 'CREDIT',
      effectiveDate: created.date,
      odfiPrefix: odfiRouting.slice(0, 8),
      entries,
    })),
  };
}
