import type pg from 'pg';
import { reference_shard } from '../domain/shard-routing';
import { withCheckConnection } from './ledger';

/**
 * What the rails are checked against (issue 19): the wallet's payouts and pay-ins as every
 * shard holds them, and the bank's own books (its entries, its settlement account's lines and
 * the credits it received), read straight from both databases. The ledger's postings of payouts
 * (`po_...`) and pay-ins (`pi_<trace number>`) are in LedgerSnapshot.legs beside the transfers'.
 */

export interface PayoutRow {
  payout_id: string;
  user_id: string;
  status: string;
  amount: bigint;
  currency: string;
  failure_reason: string | null;
  return_code: string | null;
  trace_number: string | null;
  status_changed_at_ms: number;
  return_window_ends_at_ms: number | null;
}

/** One entry of a payout file, as the bank keeps it. */
export interface BankEntryRow {
  trace_number: string;
  amount: bigint;
  status: 'ACCEPTED' | 'SETTLED' | 'RETURNED';
  /** Set once it settled (money left our settlement account); a return before settlement leaves it false. */
  settled: boolean;
  /** The test matrix's code, scheduled when the file was taken (shown once it happened). */
  return_code: string | null;
}

/** A credit someone outside sent to an account number at our bank, and whether the wallet sent it back. */
export interface BankCreditRow {
  trace_number: string;
  account_number: string;
  amount: bigint;
  /** Set when the wallet's return file (R02, R03) reached the bank. */
  return_code: string | null;
}

/** The wallet's record of one incoming credit (the reference shard's payin_credits). */
export interface PayinCreditRow {
  trace_number: string;
  status: string;
  user_id: string | null;
  return_code: string | null;
}

/** A deposit a pay-in posted, on its owner's shard (payin_deposits). */
export interface PayinDepositRow {
  trace_number: string;
  user_id: string;
  amount: bigint;
  currency: string;
  shard: number;
}

/** Sums of the bank's settlement account lines by kind (minor units, as signed on the statement). */
export type BankLineTotals = Record<
  'payout_settled' | 'payout_returned' | 'incoming_credit' | 'incoming_credit_returned',
  bigint
>;

export interface RailsSnapshot {
  payouts: Map<string, PayoutRow>;
  bank_entries: Map<string, BankEntryRow>;
  bank_lines: BankLineTotals;
  /** Lines on the bank's statements of the settlement account, every day: settlement reconciliation must match each. */
  bank_line_count: number;
  bank_credits: Map<string, BankCreditRow>;
  payin_credits: Map<string, PayinCreditRow>;
  payin_deposits: PayinDepositRow[];
  /** Files the wallet's pay-in poller finished, and the credits in them it found decided already. */
  payin_files: { files: number; duplicates: number };
  /** What the poller found in each file it finished, by the bank's cursor. */
  payin_file_rows: Map<string, { credits: number; duplicates: number }>;
  /** Credits files the bank sent again under a new file id (duplicate delivery), with the entries they repeat. */
  resent_credit_files: { cursor: string; resends: string; entries: number }[];
  read_at_ms: number;
}

/** Reads the rails' state of every shard and of the bank. */
export async function readRails(shardUrls: readonly string[], bankDatabaseUrl: string): Promise<RailsSnapshot> {
  const snapshot: RailsSnapshot = {
    payouts: new Map(),
    bank_entries: new Map(),
    bank_lines: { payout_settled: 0n, payout_returned: 0n, incoming_credit: 0n, incoming_credit_returned: 0n },
    bank_line_count: 0,
    bank_credits: new Map(),
    payin_credits: new Map(),
    payin_deposits: [],
    payin_files: { files: 0, duplicates: 0 },
    payin_file_rows: new Map(),
    resent_credit_files: [],
    read_at_ms: Date.now(),
  };
  for (const [shard, url] of shardUrls.entries())
    await withCheckConnection(url, async (client) => {
      await readPayouts(client, snapshot);
      const deposits = await client.query<{ trace_number: string; user_id: string; amount: string; currency: string }>(
        'select trace_number, user_id, amount::text as amount, currency::text as currency from payin_deposits',
      );
      for (const row of deposits.rows) snapshot.payin_deposits.push({ ...row, amount: BigInt(row.amount), shard });
      if (shard === reference_shard) await readPayinCredits(client, snapshot);
    });
  await withCheckConnection(bankDatabaseUrl, (client) => readBank(client, snapshot));
  return snapshot;
}

async function readPayouts(client: pg.Client, snapshot: RailsSnapshot): Promise<void> {
  const payouts = await client.query<{
    payout_id: string;
    user_id: string;
    status: string;
    amount: string;
    currency: string;
    failure_reason: string | null;
    return_code: string | null;
    trace_number: string | null;
    status_changed_at: Date;
    return_window_ends_at: Date | null;
  }>(
    `select payout_id, user_id, status, amount::text as amount, currency::text as currency, failure_reason,
            return_code, trace_number, status_changed_at, return_window_ends_at
       from payouts`,
  );
  for (const row of payouts.rows)
    snapshot.payouts.set(row.payout_id, {
      ...row,
      amount: BigInt(row.amount),
      status_changed_at_ms: row.status_changed_at.getTime(),
      return_window_ends_at_ms: row.return_window_ends_at?.getTime() ?? null,
    });
}

async function readPayinCredits(client: pg.Client, snapshot: RailsSnapshot): Promise<void> {
  const credits = await client.query<PayinCreditRow>(
    'select trace_number, status, user_id, return_code from payin_credits',
  );
  for (const row of credits.rows) snapshot.payin_credits.set(row.trace_number, row);
  const files = await client.query<{ files: number; duplicates: number }>(
    'select count(*)::int as files, coalesce(sum(duplicates), 0)::int as duplicates from payin_files',
  );
  snapshot.payin_files = files.rows[0]!;
  const rows = await client.query<{ cursor: string; credits: number; duplicates: number }>(
    'select cursor::text as cursor, credits, duplicates from payin_files',
  );
  for (const { cursor, ...row } of rows.rows) snapshot.payin_file_rows.set(cursor, row);
}

async function readBank(client: pg.Client, snapshot: RailsSnapshot): Promise<void> {
  const entries = await client.query<{
    trace_number: string;
    amount_minor: string;
    status: BankEntryRow['status'];
    settled: boolean;
    return_code: string | null;
  }>(
    `select trace_number, amount_minor::text as amount_minor, status, settled_at is not null as settled, return_code
       from entries`,
  );
  for (const row of entries.rows)
    snapshot.bank_entries.set(row.trace_number, {
      trace_number: row.trace_number,
      amount: BigInt(row.amount_minor),
      status: row.status,
      settled: row.settled,
      return_code: row.return_code,
    });
  const lines = await client.query<{ kind: keyof BankLineTotals; total: string; count: number }>(
    'select kind, sum(amount_minor)::text as total, count(*)::int as count from settlement_lines group by kind',
  );
  for (const row of lines.rows) {
    snapshot.bank_lines[row.kind] = BigInt(row.total);
    snapshot.bank_line_count += row.count;
  }
  const credits = await client.query<{
    trace_number: string;
    account_number: string;
    amount_minor: string;
    return_code: string | null;
  }>('select trace_number, account_number, amount_minor::text as amount_minor, return_code from incoming_credits');
  const resent = await client.query<{ cursor: string; resends: string; entries: number }>(
    `select f.cursor::text as cursor, f.resends::text as resends,
            (select count(*)::int from incoming_credits c where c.file_cursor = f.resends) as entries
       from outgoing_files f where f.resends is not null order by f.cursor`,
  );
  snapshot.resent_credit_files = resent.rows;
  for (const row of credits.rows)
    snapshot.bank_credits.set(row.trace_number, {
      trace_number: row.trace_number,
      account_number: row.account_number,
      amount: BigInt(row.amount_minor),
      return_code: row.return_code,
    });
}
