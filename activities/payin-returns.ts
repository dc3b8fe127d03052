import type { Logger } from 'pino';
import type pg from 'pg';
import {
  allocateReturnFile,
  markReturnFileUploaded,
  recordReturnFile,
  returnsToSend,
  unsentReturnFile,
  type RecordedReturnFile,
} from '../ledger/payin-returns';
import type { BankTransport } from '../rails/bank-transport';
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
}

/**
 * Sends the credits decided for return to the bank: first a file recorded earlier and not yet
 * accepted (a crash or an outage after recording it), then new files. Each new file is built by
 * the rail and recorded with its entries before it is uploaded, so what the bank may have
 * received is always what the wallet holds.
 */
export async function sendReturnFiles(sender: ReturnSender): Promise<{ files: number; entries: number }> {
  let files = 0;
  let entries = 0;
  while (files < files_per_call) {
    const file = (await unsentReturnFile(sender.reference)) ?? (await newReturnFile(sender));
    if (!file) break;
    const uploaded = await sender.bank.upload(file.fileName, file.contents);
    const returned = await markReturnFileUploaded(sender.reference, file.fileSequence, uploaded.bankFileId);
    sender.logger.info(
      { file_name: file.fileName, bank_file_id: uploaded.bankFileId, duplicate: uploaded.duplicate, entries: returned },
      'pay-in return file sent to the bank',
    );
    files++;
    entries += returned;
  }
  return { files, entries };
}

async function newReturnFile(sender: ReturnSender): Promise<RecordedReturnFile | undefined> {
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
