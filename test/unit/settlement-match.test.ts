import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchSettlement, settlementKeyOf, type SettlementLine } from '../../domain/settlement-match';

const now = new Date('2026-12-06T12:00:00Z');
const hour_ms = 3_600_000;

function line(
  kind: SettlementLine['kind'],
  traceNumber: string,
  amountMinor: bigint,
  postedAt: string,
): SettlementLine {
  return { kind, traceNumber, amountMinor, postedAt };
}

describe('settlement matching', () => {
  it('matches line by line and lists every break by its kind', () => {
    const bankLines = [
      line('payout_settled', '231380100000001', -500n, '2026-12-06T01:00:00Z'),
      line('payout_returned', '231380100000001', 500n, '2026-12-06T02:00:00Z'),
      line('incoming_credit', '091000010000001', 700n, '2026-12-06T03:00:00Z'),
      // Not in the ledger at all, and old enough to be a break.
      line('payout_settled', '231380100000002', -900n, '2026-12-06T04:00:00Z'),
      // The ledger has it for another amount.
      line('incoming_credit', '091000010000002', 250n, '2026-12-06T05:00:00Z'),
    ];
    const ledger = [
      { ...line('payout_settled', '231380100000001', -500n, '2026-12-06T01:00:10Z'), reference: 'po_1' },
      { ...line('payout_returned', '231380100000001', 500n, '2026-12-06T02:00:10Z'), reference: 'po_1' },
      { ...line('incoming_credit', '091000010000001', 700n, '2026-12-06T03:00:10Z'), reference: 'pi_1' },
      { ...line('incoming_credit', '091000010000002', 205n, '2026-12-06T05:00:10Z'), reference: 'pi_2' },
    ];
    // The ledger also has one line of the day that the bank never posted.
    const stray = { ...line('payout_settled', '231380100000003', -100n, '2026-12-06T06:00:00Z'), reference: 'po_3' };
    const match = matchSettlement({
      date: '2026-12-06',
      bankLines,
      adjacentBankKeys: new Set(),
      ledgerLinesForBankLines: ledger,
      ledgerLinesOfDay: [...ledger, stray],
      now,
      graceMs: hour_ms,
    });
    assert.equal(match.ok, false);
    assert.equal(match.breakCount, 3);
    assert.deepEqual(match.matched, { count: 3, netMinor: 700n });
    assert.deepEqual(
      match.missingInLedger.map((missing) => missing.traceNumber),
      ['231380100000002'],
    );
    assert.deepEqual(match.missingAtBank, [stray]);
    assert.deepEqual(match.amountMismatches, [
      {
        kind: 'incoming_credit',
        traceNumber: '091000010000002',
        bankAmountMinor: 250n,
        ledgerAmountMinor: 205n,
        reference: 'pi_2',
      },
    ]);
    assert.deepEqual(match.bank, { lineCount: 5, netMinor: 50n });
    assert.deepEqual(match.ledger, { lineCount: 5, netMinor: 805n });
  });

  it('tells a line in transit and one across midnight from a break', () => {
    const young = line('payout_settled', '231380100000004', -300n, '2026-12-06T11:59:00Z');
    const lateLedger = {
      ...line('payout_settled', '231380100000005', -40n, '2026-12-06T00:00:05Z'),
      reference: 'po_5',
    };
    const match = matchSettlement({
      date: '2026-12-06',
      bankLines: [young],
      // The bank posted po_5's settlement at 23:59:58 the day before; the wallet heard at 00:00:05.
      adjacentBankKeys: new Set([settlementKeyOf(lateLedger)]),
      ledgerLinesForBankLines: [],
      ledgerLinesOfDay: [lateLedger],
      now,
      graceMs: hour_ms,
    });
    assert.equal(match.ok, true);
    assert.deepEqual(match.inTransit, [young]);
    assert.deepEqual(match.acrossMidnight, [lateLedger]);
    assert.equal(match.breakCount, 0);
  });

  it('does not take a return for the settlement it returns', () => {
    // Same trace number, another kind: the keys differ, so a settled-then-returned payout needs both lines.
    const match = matchSettlement({
      date: '2026-12-06',
      bankLines: [line('payout_returned', '231380100000006', 80n, '2026-12-06T01:00:00Z')],
      adjacentBankKeys: new Set(),
      ledgerLinesForBankLines: [line('payout_settled', '231380100000006', -80n, '2026-12-06T00:30:00Z')],
      ledgerLinesOfDay: [],
      now,
      graceMs: 0,
    });
    assert.equal(match.missingInLedger.length, 1);
    assert.equal(match.matched.count, 0);
  });
});
