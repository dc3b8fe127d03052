import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amounts } from '../../chaos/amounts';
import { completedStays, finality, idempotency, workloadHealthy, type WorkloadHealth } from '../../chaos/invariants';
import type { LedgerSnapshot, LegRow, TransferRow } from '../../chaos/ledger';
import { newObservations, type Observations } from '../../chaos/workload';

/**
 * The chaos run's verdict, fooled on purpose: each invariant is shown holding on a consistent
 * run, then broken by one wrong figure (a leg that moved a wrong amount, a wallet that died on
 * its own, a run where most requests failed...).
 */

const record = (transfer_id: string, kind: TransferRow['kind'], amount: string): TransferRow => ({
  transfer_id,
  kind,
  status: 'COMPLETED',
  failure_reason: null,
  reversed_by: null,
  converts: false,
  amount,
  currency: 'USD',
});
const posted = (leg: string, minor: bigint, currency: string): LegRow => ({
  leg,
  outcome: 'posted',
  entries: 2,
  shard: 0,
  customer_minor: minor,
  customer_currency: currency,
  settlement_minor: null,
});

/** A deposit of 1000 USD, then 300 USD converted to EUR at 0.9215 (276.45, rounded down to 276). */
function consistentRun(): { snapshot: LedgerSnapshot; seen: Observations; asked: Map<string, number> } {
  const snapshot: LedgerSnapshot = {
    totals: new Map([
      [
        'USD',
        new Map([
          ['customer', 700n],
          ['settlement', -1_000n],
          ['fx', 300n],
          ['clearing', 0n],
        ]),
      ],
      [
        'EUR',
        new Map([
          ['customer', 276n],
          ['fx', -276n],
        ]),
      ],
    ]),
    transfers: new Map([
      ['dep', record('dep', 'deposit', '1000')],
      ['fx', { ...record('fx', 'transfer', '300'), converts: true }],
    ]),
    legs: new Map([
      ['dep', [posted('credit', 1_000n, 'USD')]],
      ['fx', [posted('debit', -300n, 'USD'), posted('credit', 276n, 'EUR')]],
    ]),
    conversions: new Map([
      [
        'fx',
        [
          {
            source_currency: 'USD',
            source_amount: '300',
            target_currency: 'EUR',
            target_amount: '276',
            rate: '0.9215',
          },
        ],
      ],
    ]),
    customers: { below_floor: 0, overridden: 0, negative: 0, accounts: 2 },
    drifted_accounts: 0,
    open_records: 0,
    holds_mismatched: [],
  };
  const seen = newObservations();
  seen.same_body.set('k-dep', { ids: new Set(['dep']), answers: 1 });
  seen.same_body.set('k-fx', { ids: new Set(['fx']), answers: 1 });
  seen.told.set('dep', new Set(['1000']));
  seen.told.set('fx', new Set(['300']));
  seen.accepted = new Set(['dep', 'fx']);
  seen.reported_completed = new Set(['dep', 'fx']);
  const asked = new Map([
    ['k-dep', 1_000],
    ['k-fx', 300],
  ]);
  return { snapshot, seen, asked };
}

describe('chaos invariant 11: amounts', () => {
  it('holds on a run whose legs and positions match the records', () => {
    const { snapshot, seen, asked } = consistentRun();
    const result = amounts(snapshot, seen, asked, 2);
    assert.equal(result.held, true, result.examples.join('; '));
  });

  it('fails when a credit moved one minor unit too many (conservation cannot see it: the FX house absorbs it)', () => {
    const { snapshot, seen, asked } = consistentRun();
    snapshot.legs.set('fx', [posted('debit', -300n, 'USD'), posted('credit', 277n, 'EUR')]);
    snapshot.totals.set(
      'EUR',
      new Map([
        ['customer', 277n],
        ['fx', -277n],
      ]),
    );
    const result = amounts(snapshot, seen, asked, 2);
    assert.equal(result.held, false);
    assert.match(result.examples.join('\n'), /fx: credit moved 277 EUR for the customer, 276 EUR expected/);
    assert.match(result.examples.join('\n'), /EUR customer: ledger 277, records say 276/);
  });

  it('fails when a conversion is not its source at its recorded rate', () => {
    const { snapshot, seen, asked } = consistentRun();
    snapshot.conversions.get('fx')![0]!.target_amount = '277';
    assert.equal(amounts(snapshot, seen, asked, 2).held, false);
  });

  it('fails when the client was told or recorded another amount than it asked', () => {
    const told = consistentRun();
    told.seen.told.set('fx', new Set(['301']));
    assert.match(amounts(told.snapshot, told.seen, told.asked, 2).examples.join(), /asked 300, told 301/);
    const recorded = consistentRun();
    recorded.snapshot.transfers.set('dep', record('dep', 'deposit', '999'));
    assert.equal(amounts(recorded.snapshot, recorded.seen, recorded.asked, 2).held, false);
  });

  it('fails when settlement holds what no deposit or withdrawal explains', () => {
    const { snapshot, seen, asked } = consistentRun();
    snapshot.totals.get('USD')!.set('settlement', -1_001n);
    assert.match(amounts(snapshot, seen, asked, 2).examples.join(), /USD settlement: ledger -1001, records say -1000/);
  });

  it('fails when fewer transfers than the minimum were matched to a request', () => {
    const { snapshot, seen, asked } = consistentRun();
    assert.equal(amounts(snapshot, seen, asked, 3).held, false);
  });
});

describe('chaos invariant 10: the workload stayed healthy', () => {
  const healthy: WorkloadHealth = { unplanned_exits: [], gave_up: 0, unexpected: {}, operations_broke: [] };

  it('holds when nothing went wrong for the clients, and fails on each kind of trouble', () => {
    assert.equal(workloadHealthy(healthy).held, true);
    for (const trouble of [
      { unplanned_exits: ['wallet-0 (pid 1) exited on its own (SIGSEGV); restarted'] },
      { gave_up: 1 },
      { unexpected: { '422 invalid_request': 1 } },
      { operations_broke: ['operation 7 (held) broke: approve answered 500'] },
    ])
      assert.equal(workloadHealthy({ ...healthy, ...trouble }).held, false, JSON.stringify(trouble));
  });
});

describe('chaos invariants 4 to 6: a run where most requests failed cannot pass', () => {
  it('finality needs its minimum of accepted transfers', () => {
    const { snapshot, seen } = consistentRun();
    assert.equal(finality(snapshot, seen, 1_000, 60_000, 2).held, true);
    assert.equal(finality(snapshot, seen, 1_000, 60_000, 3).held, false);
  });

  it('idempotency needs its minimum of reuses and fully answered triples', () => {
    const { seen } = consistentRun();
    seen.reused.push({ key: 'k-fx', status: 422, code: 'idempotency_key_reused' });
    seen.duplicates.push({ key: 'k-dup', ids: ['fx', 'fx', 'fx'] });
    assert.equal(idempotency(seen, new Set(), { reuses: 1, triples: 1 }).held, true);
    assert.equal(idempotency(seen, new Set(), { reuses: 2, triples: 1 }).held, false);
    seen.duplicates[0] = { key: 'k-dup', ids: ['fx'] };
    assert.equal(idempotency(seen, new Set(), { reuses: 1, triples: 1 }).held, false);
  });

  it('told COMPLETED needs its minimum of transfers told COMPLETED', () => {
    const { snapshot, seen } = consistentRun();
    assert.equal(completedStays(snapshot, seen, 2).held, true);
    assert.equal(completedStays(snapshot, seen, 3).held, false);
  });
});
