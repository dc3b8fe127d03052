import type { Logger } from 'pino';
import type pg from 'pg';
import {
  allocateReturnFile,
  markReturnFileRefused,
  markReturnFileUploaded,
  recordReturnFile,
  returnsToSend,
  unsentReturnFile,
  type RecordedReturnFile,
} from '../ledger/payin-returns';
import { BankRefusedFile, type BankTransport } from '../rails/bank-transport';
import type { Rail } from '../rails/rail';

/** Entries in one return file; more go in the next. */
const returns_per_file = 1_000;
/** Files one call sends; more wait for the next run. */
const files_per_call = 10;

interface ReturnSender {
  reference: pg.Pool;
  rail: Rail;
  bank: BankTransport;
  logger: Logger;
  /** Told of a return file the bank refused; never throws. */
  refused?: () => void;
}

/**
 * Sends the credits decided for return to the bank: first a file recorded earlier and not yet
 * accepted (a crash or an outage after recording it), then new files. Each new file is built by
 * the rail and recorded with its entries before it is uploaded, so what the bank may have
 * received is always what the wallet holds. A file the bank refuses (422) is set aside with its
 * reason (payin_return_files.refusal), logged at error level and counted.
 */
export async function sendReturnFiles(
  sender: ReturnSender,
): Promise<{ files: number; entries: number; refused: number }> {
  let files = 0;
  let entries = 0;
  let refused = 0;
  while (files + refused < files_per_call) {
    const file = (await unsentReturnFile(sender.reference)) ?? (await recordNextReturnFile(sender));
    if (!file) break;
    let uploaded: Awaited<ReturnType<BankTransport['upload']>>;
    try {
      uploaded = await sender.bank.upload(file.fileName, file.contents);
    } catch (error) {
      if (!(error instanceof BankRefusedFile)) throw error;
      // The same bytes again cannot change the bank's mind: set aside for a person, and the
      // returns behind it go on.
      await markReturnFileRefused(sender.reference, file.fileSequence, error.message);
      sender.logger.error({ file_name: file.fileName, err: error }, 'the bank refused a pay-in return file');
      sender.refused?.();
      refused++;
      continue;
    }
    const returned = await markReturnFileUploaded(sender.reference, file.fileSequence, uploaded.bankFileId);
    sender.logger.info(
      { file_name: file.fileName, bank_file_id: uploaded.bankFileId, duplicate: uploaded.duplicate, entries: returned },
      'pay-in return file sent to the bank',
    );
    files++;
    entries += returned;
  }
  return { files, entries, refused };
}

/** Builds the next return file of the credits waiting for one and records it, not yet sent; undefined when none wait. */
export async function recordNextReturnFile(sender: ReturnSender): Promise<RecordedReturnFile | undefined> {
  const pending = await returnsToSend(sender.reference, returns_per_file);
  if (pending.length === 0) return undefined;
  const { fileSequence, entrySequences } = await allocateReturnFile(sender.reference, pending.length);
  const built = await sender.rail.buildReturnFile({
    fileSequence,
    createdAt: new Date(),
    returns: pending.map((entry, index) => ({
      originalTraceNumber: entry.traceNumber,
      accountNumber: entry.accountNumber,
      amountMinor: entry.amountMinor,
      returnCode: entry.returnCode,
      entrySequence: entrySequences[index]!,
    })),
  });
  const file = { fileSequence, fileName: built.fileName, contents: built.contents };
  await recordReturnFile(sender.reference, {
    ...file,
    totalMinor: built.totalMinor,
    traceNumbers: pending.map((entry) => entry.traceNumber),
  });
  return file;
}
