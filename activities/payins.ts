import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { reference_shard } from '../domain/shard-routing';
import {
  claimCredit,
  creditPayin,
  decideCredit,
  payinCursor,
  recordPayinFile,
  type PayinFileRecord,
} from '../ledger/payins';
import type { WorkflowRun } from '../ledger/postings';
import { BankRefusedFile, type BankFeedFile, type BankTransport } from '../rails/bank-transport';
import { RailFileRefused, type IncomingCredit, type Rail } from '../rails/rail';
import { sendReturnFiles } from './payin-returns';

/** Told what the pay-in poller did, for metrics; never throws. */
export interface PayinEvents {
  file(outcome: PayinFileRecord['outcome']): void;
  entry(outcome: 'credited' | 'returned' | 'duplicate' | 'conflict'): void;
  /** The bank refused a return file we sent (set aside for a person). */
  returnFileRefused(): void;
}

export interface PayinDependencies {
  shards: ShardSet;
  logger: Logger;
  rail: Rail;
  bank: BankTransport;
  events?: PayinEvents;
}

/** Files one activity reads from the bank; more wait for the next call (the workflow asks again). */
const files_per_poll = 10;

export interface PayinPollSummary {
  files: number;
  refused: number;
  credited: number;
  returned: number;
  /** The bank had more files than one call reads. */
  more: boolean;
}

/**
 * The pay-in poller's activities (workflows/payins.ts, run by the `wallet-payins` Schedule). The
 * cursor is the reference shard's record of finished files (payin_files), not the workflow's
 * state: a file is recorded only after every entry in it is decided, so a crash anywhere before
 * makes the next run read the same file again, and every step replays by its trace number.
 */
export function createPayinActivities(deps: PayinDependencies) {
  const reference = deps.shards.pool(reference_shard);
  return {
    /** Reads the bank's next files after the pay-in cursor and turns their credits into deposits or returns. */
    async pollPayinFiles(): Promise<PayinPollSummary> {
      // Written on the deposit's postings: which poll moved the money.
      const execution = Context.current().info.workflowExecution;
      const run = { workflowId: execution?.workflowId ?? 'payin-poll', runId: execution?.runId ?? 'none' };
      const cursor = await payinCursor(reference);
      const page = await deps.bank.pollFiles(cursor.toString(), files_per_poll);
      const summary: PayinPollSummary = { files: 0, refused: 0, credited: 0, returned: 0, more: false };
      // A bank resending a file we finished (at or before our cursor) is skipped: it was decided.
      for (const file of page.files.filter((delivered) => BigInt(delivered.cursor) > cursor)) {
        const record = await processFile(deps, file, run);
        await recordPayinFile(reference, record);
        deps.events?.file(record.outcome);
        summary.files++;
        summary.refused += record.outcome === 'refused' ? 1 : 0;
        summary.credited += record.credits;
        summary.returned += record.returned;
        Context.current().heartbeat();
      }
      summary.more = page.files.length === files_per_poll;
      return summary;
    },

    /** Sends the credits decided for return (R02, R03) back to the bank in return files. */
    async sendPayinReturns(): Promise<{ files: number; entries: number; refused: number }> {
      return sendReturnFiles({
        reference,
        rail: deps.rail,
        bank: deps.bank,
        logger: deps.logger,
        refused: () => deps.events?.returnFileRefused(),
      });
    },
  };
}

export type PayinActivities = ReturnType<typeof createPayinActivities>;

/** Decides every credit of one bank file; a file the rail refuses moves nothing and is recorded refused. */
async function processFile(deps: PayinDependencies, file: BankFeedFile, run: WorkflowRun): Promise<PayinFileRecord> {
  const record: PayinFileRecord = {
    cursor: BigInt(file.cursor),
    fileName: file.fileName,
    outcome: 'processed',
    reason: null,
    credits: 0,
    returned: 0,
    duplicates: 0,
    conflicts: 0,
  };
  let credits: IncomingCredit[];
  try {
    credits = (await deps.rail.parseIncomingFile(file.contents)).credits;
    const hostile = hostileCreditOf(credits);
    if (hostile) throw new RailFileRefused(hostile);
  } catch (error) {
    if (!(error instanceof RailFileRefused)) throw error;
    // Refused whole, as NACHA has a receiver reject a file that does not add up: nothing moved.
    // Recorded with its reason so the cursor moves on; a file that never parses must not stop pay-ins.
    deps.logger.error(
      { bank_file: file.fileName, bank_cursor: file.cursor, reason: error.message },
      'a bank file was refused; none of its entries moved money',
    );
    return { ...record, outcome: 'refused', reason: error.message };
  }
  // Returns of our payouts in the same feed belong to the payout poller; they are not read here.
  for (const credit of credits) {
    const outcome = await decideOne(deps, { ...credit, currency: deps.rail.currency }, BigInt(file.cursor), run);
    deps.events?.entry(outcome);
    if (outcome === 'credited') record.credits++;
    else if (outcome === 'returned') record.returned++;
    else if (outcome === 'duplicate') record.duplicates++;
    else record.conflicts++;
  }
  return record;
}

/** Why credits cannot be taken one by one (a trace number twice, one that is not 15 digits, no amount, no account). */
function hostileCreditOf(credits: readonly IncomingCredit[]): string | undefined {
  const traces = credits.map((credit) => credit.traceNumber);
  if (new Set(traces).size !== traces.length) return 'the file carries a trace number twice';
  const bad = credits.find(
    (credit) =>
      !/^[0-9]{15}$/.test(credit.traceNumber) ||
      credit.amountMinor <= 0n ||
      credit.accountNumber.length < 1 ||
      credit.accountNumber.length > 17,
  );
  return bad && `entry ${bad.traceNumber.slice(0, 15)} has no valid trace number, amount or account number`;
}

async function decideOne(
  deps: PayinDependencies,
  credit: IncomingCredit & { currency: string },
  cursor: bigint,
  run: WorkflowRun,
): Promise<'credited' | 'returned' | 'duplicate' | 'conflict'> {
  const reference = deps.shards.pool(reference_shard);
  const claimed = await claimCredit(reference, credit, cursor);
  if (claimed.claim === 'conflict') {
    deps.logger.error(
      { trace_number: credit.traceNumber, bank_cursor: cursor.toString() },
      'a bank file repeats a trace number with another account or amount; nothing moved',
    );
    return 'conflict';
  }
  if (claimed.claim === 'duplicate') return 'duplicate';
  if (claimed.userId === null) return 'returned';
  const deposit = await creditPayin(
    deps.shards.pool(deps.shards.shardOf(claimed.userId)),
    { ...credit, userId: claimed.userId },
    run,
  );
  if (deposit.outcome === 'posted') {
    await decideCredit(reference, credit.traceNumber, { status: 'credited' });
    deps.logger.info(
      { trace_number: credit.traceNumber, user_id: claimed.userId, replayed: deposit.replayed },
      'pay-in credited',
    );
    return 'credited';
  }
  const returnCode = deposit.reason === 'wallet_closed' ? 'R02' : 'R03';
  await decideCredit(reference, credit.traceNumber, { status: 'return_pending', returnCode });
  deps.logger.warn({ trace_number: credit.traceNumber, return_code: returnCode }, 'pay-in to be returned');
  return 'returned';
}
