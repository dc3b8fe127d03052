import { payin_posting_prefix, type LedgerSnapshot } from './ledger';
import { ops_operator, type Observations } from './workload';

export interface InvariantResult {
  id: number;
  name: string;
  held: boolean;
  /** The figures behind the verdict, printed as they are. */
  figures: string;
  /** A few examples of what broke it, for the report. */
  examples: string[];
}

/** Legs posted (money moved) that a transfer of each kind may end with; anything else is a broken transfer. */
const allowed_posted_legs: Record<string, Record<string, string[]>> = {
  transfer: {
    COMPLETED: ['credit,debit'],
    FAILED: ['', 'debit,refund'],
    REVERSED: ['credit,debit,reversal_credit,reversal_debit'],
  },
  deposit: { COMPLETED: ['credit'], FAILED: [''], REVERSED: ['credit,reversal_debit'] },
  withdrawal: { COMPLETED: ['debit'], FAILED: [''], REVERSED: ['debit,reversal_credit'] },
};
const examples_max = 5;

export function conservation(snapshot: LedgerSnapshot): InvariantResult {
  const lines: string[] = [];
  const broken: string[] = [];
  for (const [currency, byKind] of [...snapshot.totals].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...byKind.values()].reduce((sum, value) => sum + value, 0n);
    const clearing = byKind.get('clearing') ?? 0n;
    const parts = ['customer', 'clearing', 'settlement', 'fx', 'payouts_in_flight']
      .map((kind) => `${kind} ${byKind.get(kind) ?? 0n}`)
      .join(', ');
    lines.push(`${currency}: ${parts}; sum ${total}`);
    if (total !== 0n || clearing !== 0n) broken.push(`${currency} sums to ${total}, clearing ${clearing}`);
  }
  if (snapshot.open_records > 0) broken.push(`${snapshot.open_records} records PENDING or PENDING_REVIEW`);
  // Payouts still held are in flight on purpose: their account must hold exactly their holds.
  broken.push(...snapshot.holds_mismatched);
  return {
    id: 1,
    name: 'conservation, nothing in flight but payout holds, which payouts_in_flight holds exactly',
    held: broken.length === 0,
    figures: `${lines.join(' | ')}; open records ${snapshot.open_records}; payouts_in_flight accounts not equal to their open holds ${snapshot.holds_mismatched.length}`,
    examples: broken.slice(0, examples_max),
  };
}

export function floors(snapshot: LedgerSnapshot): InvariantResult {
  const c = snapshot.customers;
  return {
    id: 2,
    name: 'no customer balance below its floor without an ops override',
    held: c.below_floor === 0,
    figures: `${c.accounts} customer accounts; ${c.below_floor} below floor without override; ${c.negative} negative, ${c.overridden} with negative_override (forced reversals)`,
    examples: [],
  };
}

/**
 * Invariant 3, and the set of transfers it found broken (invariant 5 asks about the duplicates
 * among them). Postings of payouts (`payoutIds`) and pay-ins (`pi_...`) have records of their own:
 * invariants 14 and 15 check their legs.
 */
export function legShapes(
  snapshot: LedgerSnapshot,
  payoutIds: ReadonlySet<string> = new Set(),
): InvariantResult & { broken_ids: Set<string> } {
  const broken = new Map<string, string>();
  const shapes: Record<string, number> = {};
  for (const [id, record] of snapshot.transfers) {
    const legs = snapshot.legs.get(id) ?? [];
    const posted = legs
      .filter((leg) => leg.outcome === 'posted')
      .map((leg) => leg.leg)
      .sort();
    const shape = `${record.kind} ${record.status}: ${posted.join('+') || 'none'}`;
    shapes[shape] = (shapes[shape] ?? 0) + 1;
    const twice = legs.map((leg) => leg.leg).filter((leg, index, all) => all.indexOf(leg) !== index);
    const badEntries = legs.filter((leg) => leg.entries !== (leg.outcome === 'posted' ? 2 : 0));
    if (twice.length > 0) broken.set(id, `${id}: leg ${twice.join(',')} on two shards`);
    else if (badEntries.length > 0)
      broken.set(
        id,
        `${id}: ${badEntries.map((leg) => `${leg.leg} ${leg.outcome} with ${leg.entries} entries`).join(', ')}`,
      );
    else if (!(allowed_posted_legs[record.kind]?.[record.status] ?? []).includes(posted.join(',')))
      broken.set(id, `${id}: ${shape}`);
  }
  for (const id of snapshot.legs.keys())
    if (!snapshot.transfers.has(id) && !payoutIds.has(id) && !id.startsWith(payin_posting_prefix))
      broken.set(id, `${id}: postings without a record`);
  const figures = Object.entries(shapes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([shape, count]) => `${shape} ${count}`)
    .join('; ');
  return {
    id: 3,
    name: 'every transfer has one allowed set of legs, none twice',
    held: broken.size === 0,
    figures: `${snapshot.transfers.size} records; ${figures}; broken ${broken.size}`,
    examples: [...broken.values()].slice(0, examples_max),
    broken_ids: new Set(broken.keys()),
  };
}

/**
 * Invariants 4 to 6 are about what clients were answered: a run where most requests failed would
 * hold them vacuously. Each needs at least this share of the planned operations behind it.
 */
export const answered_share_min = 0.9;

export function finality(
  snapshot: LedgerSnapshot,
  seen: Observations,
  settled_after_last_fault_ms: number | null,
  limit_ms: number,
  accepted_min: number,
): InvariantResult {
  const missing = [...seen.accepted].filter((id) => !snapshot.transfers.has(id));
  const open = [...snapshot.transfers.values()].filter(
    (record) => record.status === 'PENDING' || record.status === 'PENDING_REVIEW',
  );
  const inTime = settled_after_last_fault_ms !== null && settled_after_last_fault_ms <= limit_ms;
  return {
    id: 4,
    name: `every accepted transfer final within ${limit_ms / 1000} s of the last fault`,
    held: missing.length === 0 && open.length === 0 && inTime && seen.accepted.size >= accepted_min,
    figures: `${seen.accepted.size} accepted by the API (at least ${accepted_min}), ${missing.length} without a record, ${open.length} not final; all final ${settled_after_last_fault_ms === null ? 'never' : `${(settled_after_last_fault_ms / 1000).toFixed(1)} s`} after the last fault healed and the workload ended (the later)`,
    examples: [
      ...(seen.accepted.size < accepted_min
        ? [`only ${seen.accepted.size} accepted, at least ${accepted_min} expected`]
        : []),
      ...missing.map((id) => `${id}: accepted, no record`),
      ...open.map((record) => `${record.transfer_id}: ${record.status}`),
    ].slice(0, examples_max),
  };
}

export function idempotency(
  seen: Observations,
  brokenIds: Set<string>,
  minimum: { reuses: number; triples: number },
): InvariantResult {
  const split = [...seen.same_body].filter(([, entry]) => entry.ids.size > 1);
  const retried = [...seen.same_body.values()].filter((entry) => entry.answers > 1).length;
  const reuseWrong = seen.reused.filter(
    (answer) => !(answer.status === 422 && answer.code === 'idempotency_key_reused'),
  );
  const duplicatesSplit = seen.duplicates.filter((group) => new Set(group.ids).size > 1);
  const duplicatesTwice = seen.duplicates.filter((group) => group.ids.some((id) => brokenIds.has(id)));
  // A triple counts when all three clients were answered 2xx; a reuse when its first request was accepted.
  const triplesAnswered = seen.duplicates.filter((group) => group.ids.length === 3).length;
  const tooFew = [
    ...(seen.reused.length < minimum.reuses
      ? [`only ${seen.reused.length} reuses, at least ${minimum.reuses} expected`]
      : []),
    ...(triplesAnswered < minimum.triples
      ? [`only ${triplesAnswered} triples answered 2xx three times, at least ${minimum.triples} expected`]
      : []),
  ];
  const held =
    split.length === 0 &&
    reuseWrong.length === 0 &&
    duplicatesSplit.length === 0 &&
    duplicatesTwice.length === 0 &&
    tooFew.length === 0;
  return {
    id: 5,
    name: 'same key and body, same transfer; other body 422; concurrent duplicates once',
    held,
    figures: `${retried} keys answered more than once, ${split.length} with two ids; ${seen.reused.length} reuses with another body, ${seen.reused.length - reuseWrong.length} answered 422 idempotency_key_reused (at least ${minimum.reuses}); ${seen.duplicates.length} concurrent triples, ${triplesAnswered} answered 2xx three times (at least ${minimum.triples}), ${duplicatesSplit.length} split, ${duplicatesTwice.length} with a leg not once`,
    examples: [
      ...tooFew,
      ...split.map(([key, entry]) => `${key}: ids ${[...entry.ids].join(', ')}`),
      ...reuseWrong.map((answer) => `${answer.key}: reuse answered ${answer.status} ${answer.code ?? ''}`),
      ...duplicatesSplit.map((group) => `${group.key}: duplicates got ${group.ids.join(', ')}`),
    ].slice(0, examples_max),
  };
}

export function completedStays(snapshot: LedgerSnapshot, seen: Observations, completed_min: number): InvariantResult {
  let stillCompleted = 0;
  let reversedByOps = 0;
  const broken: string[] = [];
  for (const id of seen.reported_completed) {
    const record = snapshot.transfers.get(id);
    if (record?.status === 'COMPLETED') stillCompleted++;
    else if (record?.status === 'REVERSED' && seen.reverse_requested.has(id) && record.reversed_by === ops_operator)
      reversedByOps++;
    else broken.push(`${id}: told COMPLETED, now ${record?.status ?? 'no record'}`);
  }
  if (seen.reported_completed.size < completed_min)
    broken.unshift(`only ${seen.reported_completed.size} told COMPLETED, at least ${completed_min} expected`);
  return {
    id: 6,
    name: 'told COMPLETED stays COMPLETED (or REVERSED by ops)',
    held: broken.length === 0,
    figures: `${seen.reported_completed.size} reported COMPLETED (at least ${completed_min}): ${stillCompleted} COMPLETED, ${reversedByOps} REVERSED by ops, ${broken.length} otherwise`,
    examples: broken.slice(0, examples_max),
  };
}

export function noDrift(snapshot: LedgerSnapshot): InvariantResult {
  return {
    id: 8,
    name: 'each balance equals the sum of its entries',
    held: snapshot.drifted_accounts === 0,
    figures: `${snapshot.drifted_accounts} accounts drifted`,
    examples: [],
  };
}

/** What went wrong for the workload itself, beside the ledger: each must be zero. */
export interface WorkloadHealth {
  /** Wallet processes that exited without being asked to (the run restarted them). */
  unplanned_exits: string[];
  /** Requests whose retries ran out. */
  gave_up: number;
  /** 4xx answers to valid requests, by status and code. */
  unexpected: Record<string, number>;
  /** Operations that threw (a follow-up answered what it should not have, a bug of the run). */
  operations_broke: string[];
}

/** Invariant 10: the workload stayed healthy, so the other invariants judge a run that really ran. */
export function workloadHealthy(health: WorkloadHealth): InvariantResult {
  const unexpected = Object.values(health.unexpected).reduce((sum, count) => sum + count, 0);
  return {
    id: 10,
    name: 'the workload stayed healthy: no wallet died on its own, no request gave up, no valid request refused, no operation broke',
    held:
      health.unplanned_exits.length === 0 &&
      health.gave_up === 0 &&
      unexpected === 0 &&
      health.operations_broke.length === 0,
    figures: `${health.unplanned_exits.length} unplanned exits, ${health.gave_up} requests gave up, ${unexpected} unexpected answers ${JSON.stringify(health.unexpected)}, ${health.operations_broke.length} operations broke`,
    examples: [...health.unplanned_exits, ...health.operations_broke].slice(0, examples_max),
  };
}
