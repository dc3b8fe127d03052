/**
 * The boundary between the wallet and a payment rail. The payout workflow and the pay-in path
 * speak only these types: a rail turns payout instructions into the bytes its bank takes, and
 * the bytes its bank sends back into returns and incoming credits. ACH (rails/ach/) is the one
 * rail today; SEPA (pain.001 out, camt.054/pain.002 back) would be a second implementation of
 * `Rail`, chosen by configuration, with no change to the workflows.
 */

/** Where a payout goes; the account number is only ever read here and in the file, never logged. */
export interface PayoutDestination {
  routingNumber: string;
  accountNumber: string;
  holderName: string;
  accountType: 'checking' | 'savings';
}

export interface PayoutInstruction {
  payoutId: string;
  amountMinor: bigint;
  currency: string;
  destination: PayoutDestination;
}

/**
 * One outgoing file. `fileSequence` numbers the wallet's files (it decides the file's id within a
 * day) and `firstEntrySequence` the first entry's place in the wallet's run of entries: the trace
 * numbers follow from it, so the same batch built twice gives the same bytes.
 */
export interface PayoutBatch {
  fileSequence: number;
  firstEntrySequence: number;
  createdAt: Date;
  /** The banking day the entries should settle on, YYYY-MM-DD. */
  effectiveDate: string;
  instructions: readonly PayoutInstruction[];
}

export interface OutgoingFile {
  /** The file's name at the bank: unique per wallet and file sequence. */
  fileName: string;
  contents: string;
  /** Each payout's reference at the bank, which its return will quote. */
  entries: { payoutId: string; traceNumber: string; amountMinor: bigint }[];
  totalMinor: bigint;
}

/** A payout the receiving bank sent back, quoting the reference its entry had. */
export interface IncomingReturn {
  traceNumber: string;
  originalTraceNumber: string;
  /** The rail's reason code, R01-R85 for ACH. */
  returnCode: string;
  amountMinor: bigint;
}

/** Money sent to one of our virtual accounts by someone outside. */
export interface IncomingCredit {
  traceNumber: string;
  accountNumber: string;
  amountMinor: bigint;
  originatorName: string;
}

export interface IncomingFile {
  returns: IncomingReturn[];
  credits: IncomingCredit[];
}

/**
 * An entry the bank sent us that we send back (a credit to a virtual account no wallet takes).
 * `entrySequence` numbers it in the wallet's run of return entries: its trace number follows
 * from it, so the same returns built twice give the same file.
 */
export interface ReceivedEntryReturn {
  originalTraceNumber: string;
  accountNumber: string;
  amountMinor: bigint;
  /** The rail's reason code: R02 (account closed), R03 (no account) for ACH. */
  returnCode: string;
  entrySequence: number;
}

export interface ReturnBatch {
  fileSequence: number;
  createdAt: Date;
  returns: readonly ReceivedEntryReturn[];
}

export interface OutgoingReturnFile {
  fileName: string;
  contents: string;
  entries: { originalTraceNumber: string; traceNumber: string }[];
  totalMinor: bigint;
}

export interface Rail {
  readonly name: string;
  readonly currency: string;
  buildPayoutFile(batch: PayoutBatch): Promise<OutgoingFile>;
  /** Sends received entries back to their originators, each with its reason code and original trace number. */
  buildReturnFile(batch: ReturnBatch): Promise<OutgoingReturnFile>;
  /** Refuses (RailFileRefused) a file that is malformed or does not add up; never moves or throws anything else for bad input. */
  parseIncomingFile(contents: string): Promise<IncomingFile>;
}

/** Why a file was refused, as the rail's library said it; the file moves no money. */
export class RailFileRefused extends Error {
  override name = 'RailFileRefused';
}
