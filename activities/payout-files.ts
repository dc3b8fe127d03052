import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import {
  entriesBeforeWrap,
  payout_file_entries_max,
  payout_signal_names,
  type PayoutFiledSignal,
} from '../domain/payouts';
import { reference_shard } from '../domain/shard-routing';
import { bankAccountsOfPayouts, payoutAccountKey } from '../ledger/bank-accounts';
import {
  dropEmptyFile,
  fileEntries,
  findFile,
  markAnnounced,
  markRefused,
  markUploaded,
  nextEntrySequence,
  recordFile,
  unfinishedOrNewFile,
  type PayoutFile,
  type PayoutFileEntry,
} from '../ledger/payout-files';
import { anyPayoutWaiting, claimForFile, payoutsInFile, setTraceNumbers, type FiledPayout } from '../ledger/payouts';
import { BankRefusedFile, type BankTransport } from '../rails/bank-transport';
import type { OutgoingFile, PayoutInstruction, Rail } from '../rails/rail';
import { classifyFailures } from './classify-failures';

/** Sends a payout's workflow one of its signals (domain/payouts.ts names); 'closed': the workflow has ended. */
export interface PayoutSignaler {
  signal(payoutId: string, name: string, arg?: unknown): Promise<'delivered' | 'closed'>;
}

export interface PayoutFileDependencies {
  shards: ShardSet;
  logger: Logger;
  rail: Rail;
  bank: BankTransport;
  signals: PayoutSignaler;
  /** Entries per file at most (payout_file_entries_max unless a test passes fewer). */
  fileEntriesMax?: number;
}

/** Signals sent at once while announcing a file to its payouts. */
const signals_in_parallel = 32;

/**
 * The cutoff's steps (workflows/payout-files.ts): collect the payouts waiting for a file into ONE
 * file, record it (entries, trace numbers, the durable counters) on the reference shard, upload
 * it, and tell each payout. Every step is idempotent: run again, it finds the file where the last
 * attempt left it. Building is deterministic (docs/rails.md), so a file rebuilt for a second
 * upload is the same bytes and the bank's duplicate check answers the file it already has.
 */
export function createPayoutFileActivities(deps: PayoutFileDependencies) {
  return classifyFailures(deps.logger, payoutFileSteps(deps));
}

function payoutFileSteps(deps: PayoutFileDependencies) {
  const reference = deps.shards.pool(reference_shard);
  const log = deps.logger.child({ component: 'payout-files' });
  return {
    /** The file this cutoff works on (an unfinished one first), recorded; null when no payout waits. */
    async collectPayoutFile(): Promise<{ fileSequence: number } | null> {
      let file = await unfinishedOrNewFile(reference, false);
      if (!file) {
        const waiting = await Promise.all(deps.shards.pools.map(anyPayoutWaiting));
        if (!waiting.includes(true)) return null;
        file = (await unfinishedOrNewFile(reference, true))!;
      }
      if (file.status !== 'COLLECTING') return { fileSequence: file.fileSequence };
      const firstEntrySequence = await nextEntrySequence(reference);
      // A file never spans the trace counter's wrap at ten million: it ends there.
      const cap = Math.min(deps.fileEntriesMax ?? payout_file_entries_max, entriesBeforeWrap(firstEntrySequence));
      const payouts = await claimPayouts(deps, file.fileSequence, cap);
      if (payouts.length === 0) {
        await dropEmptyFile(reference, file.fileSequence);
        return null;
      }
      const fileCreatedAt = new Date();
      const batch = { fileSequence: file.fileSequence, firstEntrySequence, createdAt: fileCreatedAt };
      const built = await buildFile(deps, { ...batch, effectiveDate: nextDayOf(fileCreatedAt) }, payouts);
      await deps.shards.withTransaction(reference_shard, (client: pg.PoolClient) =>
        recordFile(client, {
          ...batch,
          fileCreatedAt,
          effectiveDate: nextDayOf(fileCreatedAt),
          fileName: built.fileName,
          entries: built.entries.map((entry, index) => ({ ...entry, userId: payouts[index]!.userId })),
        }),
      );
      await writeTraceNumbers(deps, await fileEntries(reference, file.fileSequence));
      log.info({ file_sequence: file.fileSequence, entries: payouts.length }, 'payout file recorded');
      return { fileSequence: file.fileSequence };
    },

    /** Tells each payout of a recorded file that it is in it (BATCHED) and its trace number. */
    async announceBatched(input: { fileSequence: number }): Promise<void> {
      const entries = await fileEntries(reference, input.fileSequence);
      await signalAll(deps, entries, (entry) => [payout_signal_names.batched, filed(input.fileSequence, entry)]);
    },

    /**
     * Uploads the recorded file, rebuilt from its record (the same bytes), unless the bank has it
     * already; see uploadFile.
     */
    async uploadPayoutFile(input: { fileSequence: number }): Promise<{ outcome: 'uploaded' | 'refused' }> {
      return uploadFile(deps, input.fileSequence);
    },

    /** Tells each payout of the file how its upload ended: SUBMITTED, or refused (its hold goes back). */
    async announceUpload(input: { fileSequence: number }): Promise<void> {
      const file = await requireFile(reference, input.fileSequence);
      const entries = await fileEntries(reference, input.fileSequence);
      await signalAll(deps, entries, (entry) =>
        file.status === 'REFUSED'
          ? [payout_signal_names.fileRefused, undefined]
          : [payout_signal_names.submitted, filed(input.fileSequence, entry)],
      );
      await markAnnounced(reference, input.fileSequence);
    },
  };
}

export type PayoutFileActivities = ReturnType<typeof payoutFileSteps>;

/**
 * The bank's duplicate check makes a second upload after a crash harmless: it answers the same
 * file id. A file the bank refuses is marked REFUSED: its payouts fail and their holds go back.
 * Any other failure (the bank down, no answer) is retried by the workflow.
 */
async function uploadFile(
  deps: PayoutFileDependencies,
  fileSequence: number,
): Promise<{ outcome: 'uploaded' | 'refused' }> {
  const reference = deps.shards.pool(reference_shard);
  const log = deps.logger.child({ component: 'payout-files', file_sequence: fileSequence });
  const file = await requireFile(reference, fileSequence);
  if (file.status === 'UPLOADED' || file.status === 'SETTLED') return { outcome: 'uploaded' };
  if (file.status === 'REFUSED') return { outcome: 'refused' };
  const entries = await fileEntries(reference, fileSequence);
  const payouts = await recordedPayouts(deps, fileSequence, entries);
  const built = await buildFile(
    deps,
    {
      fileSequence,
      firstEntrySequence: file.firstEntrySequence!,
      createdAt: file.fileCreatedAt!,
      effectiveDate: file.effectiveDate!,
    },
    payouts,
  );
  if (built.entries.some((entry, index) => entry.traceNumber !== entries[index]!.traceNumber))
    throw ApplicationFailure.create({
      type: 'payout_file_not_reproducible',
      message: `file ${fileSequence} rebuilt with other trace numbers than it was recorded with`,
      nonRetryable: true,
    });
  try {
    const uploaded = await deps.bank.upload(built.fileName, built.contents);
    await markUploaded(reference, fileSequence, uploaded.bankFileId);
    log.info(
      { bank_file_id: uploaded.bankFileId, duplicate: uploaded.duplicate },
      uploaded.duplicate ? 'payout file was at the bank already' : 'payout file uploaded',
    );
    return { outcome: 'uploaded' };
  } catch (error) {
    if (!(error instanceof BankRefusedFile)) throw error;
    await markRefused(reference, fileSequence, error.message);
    log.error({ refusal: error.message }, 'the bank refused a payout file');
    return { outcome: 'refused' };
  }
}

/** The file's payouts: those claimed by an earlier attempt first, then new ones up to the cap; in payout id order. */
async function claimPayouts(deps: PayoutFileDependencies, fileSequence: number, cap: number): Promise<FiledPayout[]> {
  const earlier = (await Promise.all(deps.shards.pools.map((pool) => payoutsInFile(pool, fileSequence)))).flat();
  const payouts = [...earlier];
  for (const pool of deps.shards.pools) payouts.push(...(await claimForFile(pool, fileSequence, cap - payouts.length)));
  return payouts.sort((a, b) => (a.payoutId < b.payoutId ? -1 : a.payoutId > b.payoutId ? 1 : 0));
}

/** The payouts of a recorded file's entries, in file order, from their owners' shards. */
async function recordedPayouts(
  deps: PayoutFileDependencies,
  fileSequence: number,
  entries: readonly PayoutFileEntry[],
): Promise<FiledPayout[]> {
  const shards = [...new Set(entries.map((entry) => deps.shards.shardOf(entry.userId)))];
  const found = await Promise.all(shards.map((shard) => payoutsInFile(deps.shards.pool(shard), fileSequence)));
  const byId = new Map(found.flat().map((payout) => [payout.payoutId, payout]));
  return entries.map((entry) => {
    const payout = byId.get(entry.payoutId);
    if (!payout) throw new Error(`payout ${entry.payoutId} of a recorded file is not in it on its shard`);
    return payout;
  });
}

/**
 * The rail's file for these payouts, each to its bank account as recorded (removed accounts
 * included). The accounts are read with one query per shard, not one per payout: a file of
 * 10,000 entries was 10,000 round trips, twice (built, then rebuilt for the upload).
 */
async function buildFile(
  deps: PayoutFileDependencies,
  batch: { fileSequence: number; firstEntrySequence: number; createdAt: Date; effectiveDate: string },
  payouts: readonly FiledPayout[],
): Promise<OutgoingFile> {
  const accounts = await accountsOf(deps, payouts);
  const instructions: PayoutInstruction[] = payouts.map((payout) => {
    const account = accounts.get(payoutAccountKey(payout));
    if (!account)
      throw ApplicationFailure.create({
        type: 'payout_bank_account_missing',
        message: `payout ${payout.payoutId} names a bank account its owner does not have`,
        nonRetryable: true,
      });
    const { ach } = account.details;
    return {
      payoutId: payout.payoutId,
      amountMinor: payout.amountMinor,
      currency: payout.currency,
      destination: {
        routingNumber: ach.routingNumber,
        accountNumber: ach.accountNumber,
        holderName: account.holderName,
        accountType: ach.accountType,
      },
    };
  });
  Context.current().heartbeat('building');
  return deps.rail.buildPayoutFile({ ...batch, instructions });
}

/** The payouts' bank accounts, read on each owner's shard at once. */
async function accountsOf(deps: PayoutFileDependencies, payouts: readonly FiledPayout[]) {
  const byShard = groupByShard(deps, payouts);
  const found = await Promise.all(
    [...byShard].map(([shard, ofShard]) => bankAccountsOfPayouts(deps.shards.pool(shard), ofShard)),
  );
  return new Map(found.flatMap((accounts) => [...accounts]));
}

/** Items by their owner's shard. */
function groupByShard<T extends { userId: string }>(deps: PayoutFileDependencies, items: readonly T[]) {
  const byShard = new Map<number, T[]>();
  for (const item of items) {
    const shard = deps.shards.shardOf(item.userId);
    const ofShard = byShard.get(shard) ?? [];
    ofShard.push(item);
    byShard.set(shard, ofShard);
  }
  return byShard;
}

async function writeTraceNumbers(deps: PayoutFileDependencies, entries: readonly PayoutFileEntry[]): Promise<void> {
  for (const [shard, shardEntries] of groupByShard(deps, entries))
    await setTraceNumbers(deps.shards.pool(shard), shardEntries);
}

/**
 * Signals each entry's payout, `signals_in_parallel` at a time with a heartbeat between groups;
 * `afterGroup` records a group's progress, so a retried activity starts where this one stopped.
 */
export async function signalAll(
  deps: Pick<PayoutFileDependencies, 'signals' | 'logger'>,
  entries: readonly PayoutFileEntry[],
  signalOf: (entry: PayoutFileEntry) => [string, unknown],
  afterGroup?: (group: readonly PayoutFileEntry[]) => Promise<void>,
): Promise<void> {
  for (let from = 0; from < entries.length; from += signals_in_parallel) {
    Context.current().heartbeat(from);
    const group = entries.slice(from, from + signals_in_parallel);
    await Promise.all(
      group.map(async (entry) => {
        const [name, arg] = signalOf(entry);
        const delivered = await deps.signals.signal(entry.payoutId, name, arg);
        // A payout's workflow ends only after its money is final: one gone before its file is a fault to look at.
        if (delivered === 'closed')
          deps.logger.error({ payout_id: entry.payoutId, signal: name }, 'a payout in a file has no running workflow');
      }),
    );
    await afterGroup?.(group);
  }
}

function filed(fileSequence: number, entry: PayoutFileEntry): PayoutFiledSignal {
  return { fileSequence, traceNumber: entry.traceNumber };
}

async function requireFile(pool: pg.Pool, fileSequence: number): Promise<PayoutFile> {
  const file = await findFile(pool, fileSequence);
  if (!file)
    throw ApplicationFailure.create({
      type: 'payout_file_missing',
      message: `no payout file ${fileSequence}`,
      nonRetryable: true,
    });
  return file;
}

/** The banking day the entries should settle on: the next calendar day (the dev bank settles by BANK_DAY, not by date). */
function nextDayOf(at: Date): string {
  return new Date(at.getTime() + 86_400_000).toISOString().slice(0, 10);
}
