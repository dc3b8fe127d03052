import type pg from 'pg';
import type { WorkflowRun } from './postings';
import { LegAlreadyDecided, ledgerErrorOf } from './postings';

/**
 * Pay-ins as the ledger keeps them (migrations/1763769600050_payins.sql). On the reference shard
 * payin_credits holds every credit entry the bank sent, once per trace number: claiming the row
 * is the first step and decides whether the entry is new. On the owner's shard the deposit is the
 * SQL function credit_payin, keyed by the same trace number. Between the two a crash leaves the
 * row `received`; the poller runs the same file again and both steps replay.
 */

/** A credit entry as the bank's file carries it (rails/rail.ts IncomingCredit, with the currency of the rail). */
export interface ReceivedCredit {
  traceNumber: string;
  accountNumber: string;
  amountMinor: bigint;
  currency: string;
  originatorName: string;
}

export type PayinStatus = 'received' | 'credited' | 'return_pending' | 'returned';

export type ClaimedCredit =
  /** First seen now, or seen before and not yet decided (a crash in between): go on with it. */
  | { claim: 'new'; userId: string | null; status: PayinStatus }
  /** Seen before, identical, already decided: a redelivery. Nothing to do. */
  | { claim: 'duplicate'; status: PayinStatus }
  /** Seen before with another account or amount: a hostile or broken file. Nothing moves. */
  | { claim: 'conflict'; seen: { accountNumber: string; amountMinor: bigint } };

/**
 * Claims a credit entry by its trace number on the reference shard, naming the wallet whose
 * virtual account it is; an account that is nobody's is decided at once: return R03.
 */
export async function claimCredit(reference: pg.Pool, credit: ReceivedCredit, cursor: bigint): Promise<ClaimedCredit> {
  await reference.query(
    `insert into payin_credits (trace_number, account_number, amount, currency, originator_name, user_id, status,
                                return_code, decided_at, first_cursor)
     select $1::text, $2::text, $3::bigint, $4::char(3), $5::text, v.user_id,
            case when v.user_id is null then 'return_pending' else 'received' end,
            case when v.user_id is null then 'R03' end,
            case when v.user_id is null then now() end,
            $6::bigint
       from (select 1) one left join virtual_accounts v on v.account_number = $2::text
     on conflict (trace_number) do nothing`,
    [
      credit.traceNumber,
      credit.accountNumber,
      credit.amountMinor.toString(),
      credit.currency,
      credit.originatorName,
      cursor.toString(),
    ],
  );
  const found = await reference.query<{
    account_number: string;
    amount: string;
    currency: string;
    user_id: string | null;
    status: PayinStatus;
    first_cursor: string;
  }>(
    'select account_number, amount, currency, user_id, status, first_cursor from payin_credits where trace_number = $1::text',
    [credit.traceNumber],
  );
  const row = found.rows[0]!;
  if (row.account_number !== credit.accountNumber || BigInt(row.amount) !== credit.amountMinor)
    return { claim: 'conflict', seen: { accountNumber: row.account_number, amountMinor: BigInt(row.amount) } };
  // A row first claimed from this very file is this file's to finish, whatever a crash left.
  if (row.status === 'received' || (BigInt(row.first_cursor) === cursor && row.status === 'return_pending'))
    return { claim: 'new', userId: row.user_id, status: row.status };
  return { claim: 'duplicate', status: row.status };
}

export type DepositOutcome =
  | { outcome: 'posted'; balanceAfterMinor: bigint; replayed: boolean }
  | { outcome: 'refused'; reason: 'wallet_closed' | 'unknown_user'; replayed: boolean };

/** The deposit on the owner's shard (db/functions/credit_payin.sql): once per trace number. */
export async function creditPayin(
  shard: pg.Pool,
  credit: ReceivedCredit & { userId: string },
  run: WorkflowRun,
): Promise<DepositOutcome> {
  const query = {
    name: 'credit_payin',
    text: `select outcome, reason, balance_after, replayed
             from credit_payin(p_trace_number => $1::text, p_user_id => $2::text, p_currency => $3::char(3),
                               p_amount => $4::bigint, p_originator_name => $5::text, p_workflow_id => $6::text,
                               p_run_id => $7::text)`,
    values: [
      credit.traceNumber,
      credit.userId,
      credit.currency,
      credit.amountMinor.toString(),
      credit.originatorName,
      run.workflowId,
      run.runId,
    ],
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const row = (
        await shard.query<{ outcome: string; reason: string | null; balance_after: string | null; replayed: boolean }>(
          query,
        )
      ).rows[0]!;
      if (row.outcome === 'posted')
        return { outcome: 'posted', balanceAfterMinor: BigInt(row.balance_after!), replayed: row.replayed };
      if (row.reason === 'wallet_closed' || row.reason === 'unknown_user')
        return { outcome: 'refused', reason: row.reason, replayed: row.replayed };
      throw new Error(`pay-in ${credit.traceNumber}: credit ended ${row.outcome} (${row.reason}); credits never do`);
    } catch (error) {
      const known = ledgerErrorOf(error);
      // A concurrent attempt of the same credit won: the next call reads its outcome.
      if (known instanceof LegAlreadyDecided && attempt === 0) continue;
      throw known;
    }
  }
}

/** Records what the owner's shard decided: credited, or to be returned (R02 closed, R03 no such user). */
export async function decideCredit(
  reference: pg.Pool,
  traceNumber: string,
  decision: { status: 'credited' } | { status: 'return_pending'; returnCode: 'R02' | 'R03' },
): Promise<void> {
  await reference.query(
    `update payin_credits set status = $2::text, return_code = $3::text, decided_at = now()
      where trace_number = $1::text and status = 'received'`,
    [traceNumber, decision.status, decision.status === 'credited' ? null : decision.returnCode],
  );
}

/** The pay-in poller's cursor: the last bank file it finished (0: none yet). */
export async function payinCursor(reference: pg.Pool): Promise<bigint> {
  const found = await reference.query<{ cursor: string }>('select coalesce(max(cursor), 0) as cursor from payin_files');
  return BigInt(found.rows[0]!.cursor);
}

export interface PayinFileRecord {
  cursor: bigint;
  fileName: string;
  outcome: 'processed' | 'refused';
  reason: string | null;
  credits: number;
  returned: number;
  duplicates: number;
  conflicts: number;
}

/** Marks a bank file finished: this moves the cursor past it. A second record of the same file changes nothing. */
export async function recordPayinFile(reference: pg.Pool, file: PayinFileRecord): Promise<void> {
  await reference.query(
    `insert into payin_files (cursor, file_name, outcome, reason, credits, returned, duplicates, conflicts)
     values ($1::bigint, $2::text, $3::text, $4::text, $5::int, $6::int, $7::int, $8::int)
     on conflict (cursor) do nothing`,
    [
      file.cursor.toString(),
      file.fileName.slice(0, 200),
      file.outcome,
      file.reason?.slice(0, 2000) ?? null,
      file.credits,
      file.returned,
      file.duplicates,
      file.conflicts,
    ],
  );
}

/** The pay-in poller's latest files, newest first; `refusedOnly`: the files the rail refused. */
export async function latestPayinFiles(
  reference: pg.Pool,
  query: { refusedOnly: boolean; limit: number },
): Promise<(PayinFileRecord & { processedAt: Date })[]> {
  const found = await reference.query<{
    cursor: string;
    file_name: string;
    outcome: PayinFileRecord['outcome'];
    reason: string | null;
    credits: number;
    returned: number;
    duplicates: number;
    conflicts: number;
    processed_at: Date;
  }>(
    `select cursor, file_name, outcome, reason, credits, returned, duplicates, conflicts, processed_at
       from payin_files where not $1::boolean or outcome = 'refused' order by cursor desc limit $2::int`,
    [query.refusedOnly, query.limit],
  );
  return found.rows.map((row) => ({
    cursor: BigInt(row.cursor),
    fileName: row.file_name,
    outcome: row.outcome,
    reason: row.reason,
    credits: row.credits,
    returned: row.returned,
    duplicates: row.duplicates,
    conflicts: row.conflicts,
    processedAt: row.processed_at,
  }));
}

export interface PayinRecord {
  traceNumber: string;
  userId: string | null;
  amountMinor: bigint;
  currency: string;
  originatorName: string;
  status: PayinStatus;
  returnCode: string | null;
  receivedAt: Date;
}

/** One credit entry as the poller recorded it; undefined for a trace number it never saw. */
export async function payinOf(reference: pg.Pool, traceNumber: string): Promise<PayinRecord | undefined> {
  const found = await reference.query<{
    user_id: string | null;
    amount: string;
    currency: string;
    originator_name: string;
    status: PayinStatus;
    return_code: string | null;
    received_at: Date;
  }>(
    `select user_id, amount, currency, originator_name, status, return_code, received_at
       from payin_credits where trace_number = $1::text`,
    [traceNumber],
  );
  const row = found.rows[0];
  return (
    row && {
      traceNumber,
      userId: row.user_id,
      amountMinor: BigInt(row.amount),
      currency: row.currency,
      originatorName: row.originator_name,
      status: row.status,
      returnCode: row.return_code,
      receivedAt: row.received_at,
    }
  );
}
