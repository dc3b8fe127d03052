/**
 * Settlement reconciliation's matching, pure: one banking day's statement of our settlement
 * account at the bank against what the wallet's ledger says moved through that account, line by
 * line, keyed by (kind, trace number). The bank and the wallet see the same money at different
 * moments (the bank settles, the wallet hears of it at its next poll), so:
 *
 * - a bank line is looked up in the ledger whatever day the wallet posted it;
 * - a ledger line of the day that is not on the day's statement but on the day before's or
 *   after's is a timing difference across midnight, listed but not a break;
 * - a bank line younger than `graceMs` that the ledger does not have yet is in transit, listed
 *   but not a break: the wallet has not polled since.
 *
 * What is left is a break: missing in the ledger, missing at the bank, or an amount mismatch.
 */

export const settlement_line_kinds = [
  /** A payout left: the statement's amount is negative. */
  'payout_settled',
  /** A settled payout came back: positive. */
  'payout_returned',
  /** Someone outside paid one of our virtual accounts: positive. */
  'incoming_credit',
  /** A credit no wallet could take (R02, R03) went back to its originator: negative. */
  'incoming_credit_returned',
] as const;

export type SettlementLineKind = (typeof settlement_line_kinds)[number];

export interface SettlementLine {
  kind: SettlementLineKind;
  traceNumber: string;
  /** Signed as the bank's statement signs it: money out of our settlement account is negative. */
  amountMinor: bigint;
  /** When this side posted it (ISO 8601). */
  postedAt: string;
  /** The wallet's own id for the money (payout or pay-in id); absent on bank lines. */
  reference?: string;
}

/**
 * What the wallet's ledger says moved through our settlement account at the bank, as statement
 * lines (ledger/settlement-lines.ts reads them from every shard).
 */
export interface LedgerSettlementLines {
  /** The ledger's lines with these keys (settlementKeyOf), whatever day they were posted. */
  withKeys(lines: readonly Pick<SettlementLine, 'kind' | 'traceNumber'>[]): Promise<SettlementLine[]>;
  /** The ledger's lines posted on a UTC day (YYYY-MM-DD). */
  ofDay(date: string): Promise<SettlementLine[]>;
}

export interface AmountMismatch {
  kind: SettlementLineKind;
  traceNumber: string;
  bankAmountMinor: bigint;
  ledgerAmountMinor: bigint;
  reference?: string;
}

export interface SettlementMatchInput {
  /** The statement's day, YYYY-MM-DD (UTC). */
  date: string;
  bankLines: readonly SettlementLine[];
  /** Keys (settlementKeyOf) of the lines on the statements of the day before and after. */
  adjacentBankKeys: ReadonlySet<string>;
  /** Every ledger line whose key is on the day's statement, whatever day it was posted. */
  ledgerLinesForBankLines: readonly SettlementLine[];
  /** Every ledger line posted on the day. */
  ledgerLinesOfDay: readonly SettlementLine[];
  now: Date;
  graceMs: number;
}

export interface SettlementMatch {
  date: string;
  ok: boolean;
  breakCount: number;
  matched: { count: number; netMinor: bigint };
  missingInLedger: SettlementLine[];
  missingAtBank: SettlementLine[];
  amountMismatches: AmountMismatch[];
  /** On the bank's statement, not in the ledger yet, younger than the grace: the wallet has not heard yet. */
  inTransit: SettlementLine[];
  /** Ledger lines of the day that the bank posted the day before or after. */
  acrossMidnight: SettlementLine[];
  bank: { lineCount: number; netMinor: bigint };
  ledger: { lineCount: number; netMinor: bigint };
}

export function settlementKeyOf(line: Pick<SettlementLine, 'kind' | 'traceNumber'>): string {
  return `${line.kind}:${line.traceNumber}`;
}

export function matchSettlement(input: SettlementMatchInput): SettlementMatch {
  const ledgerByKey = new Map(input.ledgerLinesForBankLines.map((line) => [settlementKeyOf(line), line]));
  const bankKeys = new Set(input.bankLines.map(settlementKeyOf));
  const missingInLedger: SettlementLine[] = [];
  const inTransit: SettlementLine[] = [];
  const amountMismatches: AmountMismatch[] = [];
  let matchedCount = 0;
  let matchedNet = 0n;

  for (const bankLine of input.bankLines) {
    const ledgerLine = ledgerByKey.get(settlementKeyOf(bankLine));
    if (!ledgerLine) {
      const age = input.now.getTime() - Date.parse(bankLine.postedAt);
      (age < input.graceMs ? inTransit : missingInLedger).push(bankLine);
    } else if (ledgerLine.amountMinor !== bankLine.amountMinor) {
      amountMismatches.push({
        kind: bankLine.kind,
        traceNumber: bankLine.traceNumber,
        bankAmountMinor: bankLine.amountMinor,
        ledgerAmountMinor: ledgerLine.amountMinor,
        ...(ledgerLine.reference === undefined ? {} : { reference: ledgerLine.reference }),
      });
    } else {
      matchedCount += 1;
      matchedNet += bankLine.amountMinor;
    }
  }

  const missingAtBank: SettlementLine[] = [];
  const acrossMidnight: SettlementLine[] = [];
  for (const ledgerLine of input.ledgerLinesOfDay) {
    const key = settlementKeyOf(ledgerLine);
    if (bankKeys.has(key)) continue;
    (input.adjacentBankKeys.has(key) ? acrossMidnight : missingAtBank).push(ledgerLine);
  }

  const breakCount = missingInLedger.length + missingAtBank.length + amountMismatches.length;
  return {
    date: input.date,
    ok: breakCount === 0,
    breakCount,
    matched: { count: matchedCount, netMinor: matchedNet },
    missingInLedger,
    missingAtBank,
    amountMismatches,
    inTransit,
    acrossMidnight,
    bank: { lineCount: input.bankLines.length, netMinor: sumOf(input.bankLines) },
    ledger: { lineCount: input.ledgerLinesOfDay.length, netMinor: sumOf(input.ledgerLinesOfDay) },
  };
}

function sumOf(lines: readonly SettlementLine[]): bigint {
  return lines.reduce((sum, line) => sum + line.amountMinor, 0n);
}
