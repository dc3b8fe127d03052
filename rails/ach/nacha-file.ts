/**
 * A NACHA file as the wallet and the bank see it: the few fields they use, money as bigint, and
 * the mapping to and from moov-io/ach's JSON (which the ACH server builds, validates and parses).
 * Nothing here writes or reads a fixed-width record: that is the library's job.
 */

/** NACHA transaction codes the wallet uses: credits and their returns, to checking (2x) or savings (3x). */
export const transaction_codes = {
  checkingCredit: 22,
  savingsCredit: 32,
  checkingCreditReturn: 21,
  savingsCreditReturn: 31,
} as const;

/** The largest amount one entry carries: its field is ten digits of cents. */
export const entry_amount_max_minor = 9_999_999_999n;

export interface NachaEntry {
  transactionCode: number;
  /** The receiving bank's nine-digit routing number (eight digits and the check digit). */
  routingNumber: string;
  accountNumber: string;
  amountMinor: bigint;
  individualName: string;
  identificationNumber: string;
  traceNumber: string;
  /** A return entry's addenda 99: why, and which entry it sends back. */
  return?: { code: string; originalTraceNumber: string; originalRoutingPrefix: string };
}

export interface NachaBatch {
  companyName: string;
  companyIdentification: string;
  entryDescription: string;
  /** YYMMDD. */
  effectiveDate: string;
  /** The originating bank's routing number, first eight digits. */
  odfiPrefix: string;
  entries: NachaEntry[];
}

export interface NachaFile {
  destinationRouting: string;
  originRouting: string;
  destinationName: string;
  originName: string;
  /** YYMMDD and HHMM. */
  creationDate: string;
  creationTime: string;
  idModifier: string;
  batches: NachaBatch[];
}

/** 220 credits only, 225 debits only, 200 mixed. */
function serviceClassOf(entries: readonly NachaEntry[]): number {
  const credits = entries.some((entry) => isCredit(entry.transactionCode));
  const debits = entries.some((entry) => !isCredit(entry.transactionCode));
  return credits && debits ? 200 : debits ? 225 : 220;
}

/** Codes ending in 1-4 move money to the receiver (credits and their returns); 5-9 take it (debits). */
function isCredit(transactionCode: number): boolean {
  return transactionCode % 10 >= 1 && transactionCode % 10 <= 4;
}

/** moov's JSON for a file; moov computes every control record (counts, totals, entry hash). */
export function toMoovJson(file: NachaFile): object {
  return {
    fileHeader: {
      immediateDestination: file.destinationRouting,
      immediateOrigin: file.originRouting,
      fileCreationDate: file.creationDate,
      fileCreationTime: file.creationTime,
      fileIDModifier: file.idModifier,
      immediateDestinationName: file.destinationName,
      immediateOriginName: file.originName,
    },
    batches: file.batches.map((batch, index) => ({
      batchHeader: {
        serviceClassCode: serviceClassOf(batch.entries),
        companyName: batch.companyName,
        companyIdentification: batch.companyIdentification,
        standardEntryClassCode: 'PPD',
        companyEntryDescription: batch.entryDescription,
        effectiveEntryDate: batch.effectiveDate,
        originatorStatusCode: 1,
        ODFIIdentification: batch.odfiPrefix,
        batchNumber: index + 1,
      },
      entryDetails: batch.entries.map(toMoovEntry),
    })),
  };
}

function toMoovEntry(entry: NachaEntry): object {
  if (entry.amountMinor < 0n || entry.amountMinor > entry_amount_max_minor)
    throw new RangeError(`an ACH entry carries 0 to ${entry_amount_max_minor} cents, not ${entry.amountMinor}`);
  const base = {
    transactionCode: entry.transactionCode,
    RDFIIdentification: entry.routingNumber.slice(0, 8),
    checkDigit: entry.routingNumber.slice(8, 9),
    DFIAccountNumber: entry.accountNumber,
    // Ten digits of cents at most (checked above), so the JSON number is exact.
    amount: Number(entry.amountMinor),
    identificationNumber: entry.identificationNumber,
    individualName: entry.individualName,
    traceNumber: entry.traceNumber,
  };
  if (!entry.return) return { ...base, addendaRecordIndicator: 0 };
  return {
    ...base,
    addendaRecordIndicator: 1,
    category: 'Return',
    addenda99: {
      typeCode: '99',
      returnCode: entry.return.code,
      originalTrace: entry.return.originalTraceNumber,
      originalDFI: entry.return.originalRoutingPrefix,
      traceNumber: entry.traceNumber,
    },
  };
}
