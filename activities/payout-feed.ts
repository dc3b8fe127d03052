import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import { payout_signal_names, type PayoutReturnedSignal } from '../domain/payouts';
import { reference_shard } from '../domain/shard-routing';
import {
  entryByTraceNumber,
  fileEntries,
  fileOfTraceNumber,
  filesAwaitingSettlement,
  markFileSettled,
  markSettlementSignaled,
  unsignaledSettlements,
  type PayoutFile,
} from '../ledger/payout-files';
import {
  advanceFeedCursor,
  decideReturn,
  feedCursor,
  receiveReturn,
  recordRefusedBankFile,
  type ReceivedReturn,
} from '../ledger/payout-returns';
import type { BankFeedFile } from '../rails/bank-transport';
import { RailFileRefused } from '../rails/rail';
import { classifyFailures } from './classify-failures';
import { signalAll, type PayoutFileDependencies } from './payout-files';

/** Uploaded files followed per run, oldest first; the rest wait for the next tick. */
const files_followed_per_run = 20;
/** Pages of the bank's feed read per run (each up to 100 files). */
const feed_pages_per_run = 10;
const feed_page_size = 100;

/**
 * What the bank tells the wallet about its payouts, read by the inbound Schedule
 * (workflows/payout-files.ts): settlement from each uploaded file's status at the bank
 * (GET /files/{id}), and returns from the bank's feed of files (GET /outgoing-files, with a
 * durable cursor). Both are idempotent: a settlement is signaled once per entry (recorded), a
 * return once per return entry (its trace number is the key), and a payout's workflow ignores a
 * second return. Incoming credits in the feed are the pay-ins' business and are skipped here.
 */
export function createPayoutFeedActivities(deps: PayoutFileDependencies) {
  return classifyFailures(deps.logger, payoutFeedSteps(deps));
}

function payoutFeedSteps(deps: PayoutFileDependencies) {
  const feed: Feed = {
    deps,
    reference: deps.shards.pool(reference_shard),
    log: deps.logger.child({ component: 'payout-feed' }),
  };
  const { reference } = feed;
  return {
    async followSettlements(): Promise<{ filesFollowed: number }> {
      const files = await filesAwaitingSettlement(reference, files_followed_per_run);
      for (const file of files) {
        Context.current().heartbeat(file.fileSequence);
        await followFile(feed, file);
      }
      return { filesFollowed: files.length };
    },

    /** Reads the feed from the stored cursor; the cursor moves past a file only once its returns are decided. */
    async pollReturns(): Promise<{ filesRead: number }> {
      let cursor = await feedCursor(reference);
      let filesRead = 0;
      // A payout file's settlements are read from the bank once per run, however many of its returns come.
      const followed = new Set<number>();
      for (let page = 0; page < feed_pages_per_run; page++) {
        const { files, nextCursor } = await deps.bank.pollFiles(cursor, feed_page_size);
        for (const file of files) {
          await readFeedFile(feed, file, followed);
          await advanceFeedCursor(reference, file.cursor);
          filesRead++;
        }
        if (files.length === 0 || nextCursor === cursor) break;
        cursor = nextCursor;
      }
      return { filesRead };
    },
  };
}

export type PayoutFeedActivities = ReturnType<typeof payoutFeedSteps>;

/** What the feed's steps share: their dependencies, the reference shard, the log. */
interface Feed {
  deps: PayoutFileDependencies;
  reference: pg.Pool;
  log: Logger;
}

/** One uploaded file: signals `payoutSettled` to each entry the bank settled; the file is SETTLED once none is pending. */
async function followFile({ deps, reference }: Feed, file: PayoutFile): Promise<void> {
  const statuses = await deps.bank.entryStatuses(file.bankFileId!);
  const byTrace = new Map(statuses.map((entry) => [entry.traceNumber, entry]));
  const waiting = await unsignaledSettlements(reference, file.fileSequence);
  // Settled, whether or not a return followed since: the money left first (a return after settlement).
  const settled = waiting.filter((entry) => byTrace.get(entry.traceNumber)?.settledAt);
  // In parallel groups, each recorded as signaled once sent: a file of 10,000 settled entries was
  // 10,000 signals one after another, with no heartbeat between them.
  await signalAll(
    deps,
    settled,
    () => [payout_signal_names.settled, undefined],
    (group) =>
      markSettlementSignaled(
        reference,
        group.map((entry) => entry.payoutId),
      ),
  );
  const entries = await fileEntries(reference, file.fileSequence);
  const pending = entries.some((entry) => (byTrace.get(entry.traceNumber)?.status ?? 'ACCEPTED') === 'ACCEPTED');
  if (!pending && waiting.length === settled.length) await markFileSettled(reference, file.fileSequence);
}

/** A return, once: to its payout's workflow, or kept as unknown (no payout of ours has that trace number). */
async function applyReturn(feed: Feed, received: ReceivedReturn, followed: Set<number>): Promise<void> {
  const { deps, reference, log } = feed;
  if (received.outcome !== 'received') return;
  const entry = await entryByTraceNumber(reference, received.originalTraceNumber);
  const fields = {
    return_trace_number: received.returnTraceNumber,
    original_trace_number: received.originalTraceNumber,
    return_code: received.returnCode,
  };
  if (!entry) {
    await decideReturn(reference, received.returnTraceNumber, 'unknown_trace', null);
    log.error(fields, 'a return for a trace number no payout of ours has: kept in payout_returns, nothing moved');
    return;
  }
  // The bank settles an entry before it can return it after settlement. A return read before this
  // wallet heard of that settlement (a slow or failed settlement poll) would give the money back
  // as a released hold, and the ledger would lack the settlement the bank's statement shows. So
  // the entry's file is followed first: a settlement the bank already made is signaled before
  // the return, and the payout settles, then returns, as the money did.
  const file = await fileOfTraceNumber(reference, received.originalTraceNumber);
  if (file?.status === 'UPLOADED' && !followed.has(file.fileSequence)) {
    followed.add(file.fileSequence);
    await followFile(feed, file);
  }
  const signal: PayoutReturnedSignal = {
    returnCode: received.returnCode,
    returnTraceNumber: received.returnTraceNumber,
  };
  const delivered = await deps.signals.signal(entry.payoutId, payout_signal_names.returned, signal);
  await decideReturn(
    reference,
    received.returnTraceNumber,
    delivered === 'closed' ? 'closed' : 'applied',
    entry.payoutId,
  );
  if (delivered === 'closed')
    log.error(
      { ...fields, payout_id: entry.payoutId },
      'a return came after its payout closed: nothing moved, ops decide',
    );
  else log.info({ ...fields, payout_id: entry.payoutId }, 'payout return delivered');
}

/** One file of the feed: its returns applied; a file the rail refuses is kept with its reason and skipped. */
async function readFeedFile(feed: Feed, file: BankFeedFile, followed: Set<number>): Promise<void> {
  if (file.kind !== 'returns') return;
  let parsed;
  try {
    parsed = await feed.deps.rail.parseIncomingFile(file.contents);
  } catch (error) {
    if (!(error instanceof RailFileRefused)) throw error;
    await recordRefusedBankFile(feed.reference, {
      bankCursor: file.cursor,
      fileName: file.fileName,
      reason: error.message,
    });
    feed.log.error(
      { bank_cursor: file.cursor, file_name: file.fileName, reason: error.message },
      'a bank file was refused',
    );
    return;
  }
  for (const found of parsed.returns) {
    Context.current().heartbeat(found.traceNumber);
    const received = await receiveReturn(feed.reference, {
      returnTraceNumber: found.traceNumber,
      originalTraceNumber: found.originalTraceNumber,
      returnCode: found.returnCode,
      amountMinor: found.amountMinor,
      bankCursor: file.cursor,
    });
    await applyReturn(feed, received, followed);
  }
}
