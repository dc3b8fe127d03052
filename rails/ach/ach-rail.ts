import type {
  IncomingFile,
  OutgoingFile,
  OutgoingReturnFile,
  PayoutBatch,
  PayoutInstruction,
  Rail,
  ReceivedEntryReturn,
  ReturnBatch,
} from '../rail';
import { RailFileRefused } from '../rail';
import type { AchFiles } from './ach-files';
import { entry_amount_max_minor, transaction_codes, type NachaEntry, type NachaFile } from './nacha-file';
import { payoutEntrySequenceOf, returnEntrySequenceOf } from '../../domain/entry-sequences';
import { fileIdModifierOf, nachaDateOf, nachaDayOf, routingNumberOfPrefix, traceNumberOf } from './trace-numbers';

/** Who we are on the ACH network: our bank (the ODFI, which is also the RDFI of our virtual accounts) and us as originator. */
export interface AchOriginator {
  odfiRouting: string;
  odfiName: string;
  companyName: string;
  /** Ten characters, usually "1" and the company's EIN. */
  companyIdentification: string;
  /** What the receiver's statement shows, ten characters at most. */
  entryDescription: string;
}

/** NACHA fields are ASCII; names are cut to their field's width (22 for an individual). */
function fieldText(text: string, width: number): string {
  return text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, width);
}

export class AchRail implements Rail {
  readonly name = 'ach';
  readonly currency = 'USD';

  constructor(
    private readonly files: AchFiles,
    private readonly originator: AchOriginator,
  ) {}

  async buildPayoutFile(batch: PayoutBatch): Promise<OutgoingFile> {
    if (batch.instructions.length === 0) throw new RangeError('a payout file has at least one entry');
    const entries = batch.instructions.map((instruction, index) =>
      this.entryOf(instruction, batch.firstEntrySequence + index),
    );
    const file: NachaFile = {
      ...this.fileHeaderOf(batch.fileSequence, batch.createdAt),
      batches: [
        {
          companyName: fieldText(this.originator.companyName, 16),
          companyIdentification: this.originator.companyIdentification,
          entryDescription: fieldText(this.originator.entryDescription, 10),
          effectiveDate: nachaDayOf(batch.effectiveDate),
          odfiPrefix: this.originator.odfiRouting.slice(0, 8),
          entries,
        },
      ],
    };
    const contents = await this.files.build(file);
    return {
      fileName: `payouts-${String(batch.fileSequence).padStart(8, '0')}.ach`,
      contents,
      entries: batch.instructions.map((instruction, index) => ({
        payoutId: instruction.payoutId,
        traceNumber: entries[index]!.traceNumber,
        amountMinor: instruction.amountMinor,
      })),
      totalMinor: batch.instructions.reduce((total, instruction) => total + instruction.amountMinor, 0n),
    };
  }

  /**
   * Sends credits we received back to the banks that originated them, as the RDFI does (NACHA:
   * transaction code 21, addenda 99 with the reason and the original trace number): one batch
   * we originate, so its trace numbers carry our prefix, in entry sequence order.
   */
  async buildReturnFile(batch: ReturnBatch): Promise<OutgoingReturnFile> {
    if (batch.returns.length === 0) throw new RangeError('a return file has at least one entry');
    const returns = [...batch.returns].sort((a, b) => a.entrySequence - b.entrySequence);
    const entries = returns.map((entry) => this.returnEntryOf(entry));
    const created = nachaDateOf(batch.createdAt);
    const file: NachaFile = {
      ...this.fileHeaderOf(batch.fileSequence, batch.createdAt),
      batches: [
        {
          companyName: fieldText(this.originator.companyName, 16),
          companyIdentification: this.originator.companyIdentification,
          entryDescription: 'RETURN',
          effectiveDate: created.date,
          odfiPrefix: this.originator.odfiRouting.slice(0, 8),
          entries,
        },
      ],
    };
    return {
      fileName: `payin-returns-${String(batch.fileSequence).padStart(8, '0')}.ach`,
      contents: await this.files.build(file),
      entries: returns.map((entry, index) => ({
        originalTraceNumber: entry.originalTraceNumber,
        traceNumber: entries[index]!.traceNumber,
      })),
      totalMinor: returns.reduce((total, entry) => total + entry.amountMinor, 0n),
    };
  }

  private returnEntryOf(entry: ReceivedEntryReturn): NachaEntry {
    if (!/^R\d{2}$/.test(entry.returnCode))
      throw new RangeError(`an ACH return code is R00-R99, not ${entry.returnCode}`);
    if (entry.amountMinor <= 0n || entry.amountMinor > entry_amount_max_minor)
      throw new RangeError(`an ACH return is 1 to ${entry_amount_max_minor} cents`);
    const originalPrefix = entry.originalTraceNumber.slice(0, 8);
    return {
      transactionCode: transaction_codes.checkingCreditReturn,
      // Back to the bank that originated the credit, named by its trace number's prefix.
      routingNumber: routingNumberOfPrefix(originalPrefix),
      accountNumber: entry.accountNumber,
      amountMinor: entry.amountMinor,
      individualName: 'RETURNED ENTRY',
      identificationNumber: '',
      traceNumber: traceNumberOf(this.originator.odfiRouting, returnEntrySequenceOf(entry.entrySequence)),
      return: {
        code: entry.returnCode,
        originalTraceNumber: entry.originalTraceNumber,
        originalRoutingPrefix: originalPrefix,
      },
    };
  }

  private fileHeaderOf(fileSequence: number, createdAt: Date): Omit<NachaFile, 'batches'> {
    const created = nachaDateOf(createdAt);
    return {
      destinationRouting: this.originator.odfiRouting,
      originRouting: this.originator.odfiRouting,
      destinationName: fieldText(this.originator.odfiName, 23),
      originName: fieldText(this.originator.companyName, 23),
      creationDate: created.date,
      creationTime: created.time,
      idModifier: fileIdModifierOf(fileSequence),
    };
  }

  private entryOf(instruction: PayoutInstruction, entrySequence: number): NachaEntry {
    if (instruction.currency !== this.currency)
      throw new RangeError(`ACH moves ${this.currency} only, not ${instruction.currency}`);
    if (instruction.amountMinor <= 0n || instruction.amountMinor > entry_amount_max_minor)
      throw new RangeError(`an ACH payout is 1 to ${entry_amount_max_minor} cents`);
    const { destination } = instruction;
    return {
      transactionCode:
        destination.accountType === 'savings' ? transaction_codes.savingsCredit : transaction_codes.checkingCredit,
      routingNumber: destination.routingNumber,
      accountNumber: destination.accountNumber,
      amountMinor: instruction.amountMinor,
      individualName: fieldText(destination.holderName, 22),
      // The receiver's reference for us: the payout id's first fifteen characters.
      identificationNumber: fieldText(instruction.payoutId, 15),
      traceNumber: traceNumberOf(this.originator.odfiRouting, payoutEntrySequenceOf(entrySequence)),
    };
  }

  /** Returns of our payouts and credits to our virtual accounts; anything else in the file refuses it. */
  async parseIncomingFile(contents: string): Promise<IncomingFile> {
    const file = await this.files.parse(contents);
    const incoming: IncomingFile = { returns: [], credits: [] };
    for (const batch of file.batches) {
      for (const entry of batch.entries) {
        if (entry.return) {
          incoming.returns.push({
            traceNumber: entry.traceNumber,
            originalTraceNumber: entry.return.originalTraceNumber,
            returnCode: entry.return.code,
            amountMinor: entry.amountMinor,
          });
        } else if (isCredit(entry) && entry.routingNumber === this.originator.odfiRouting) {
          incoming.credits.push({
            traceNumber: entry.traceNumber,
            accountNumber: entry.accountNumber,
            amountMinor: entry.amountMinor,
            originatorName: batch.companyName,
          });
        } else {
          throw new RailFileRefused(
            `entry ${entry.traceNumber} (transaction code ${entry.transactionCode}, bank ${entry.routingNumber}) is neither a return nor a credit to us`,
          );
        }
      }
    }
    return incoming;
  }
}

function isCredit(entry: NachaEntry): boolean {
  return (
    entry.transactionCode === transaction_codes.checkingCredit ||
    entry.transactionCode === transaction_codes.savingsCredit
  );
}
