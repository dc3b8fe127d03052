import type { InvariantResult } from './invariants';
import { payin_posting_prefix, type LedgerSnapshot, type LegRow } from './ledger';
import type { BankEntryRow, PayoutRow, RailsSnapshot } from './rails-ledger';

/**
 * The rails' invariants (issue 19 §7), pure functions of what was read from the wallet's
 * shards and the bank's database, so test/unit/chaos-invariants.test.ts can fool each one.
 */

const examples_max = 5;

/** Statuses no money moves from any more (SETTLED is not one: a return may still come until its window ends). */
const payout_final_statuses = new Set(['RETURNED', 'CANCELED', 'FAILED']);
/** Statuses before the bank has the payout's file: a cutoff must move them on. */
const payout_before_bank = new Set(['ACCEPTED', 'PENDING_REVIEW', 'HELD', 'BATCHED']);

/** How long a payout may wait in a status before the bank has its file, and after (the settlement day). */
export interface PayoutBounds {
  before_bank_ms: number;
  submitted_ms: number;
}

/** The legs (posted, sorted, comma-joined) a payout may have in each status; anything else is broken. */
const allowed_payout_legs: Record<string, string[]> = {
  ACCEPTED: [''],
  PENDING_REVIEW: [''],
  HELD: ['hold'],
  BATCHED: ['hold'],
  SUBMITTED: ['hold'],
  SETTLED: ['hold,settle'],
  // Returned before settlement: the hold released; after: settled, then the money came back.
  RETURNED: ['hold,release', 'hold,return,settle'],
  CANCELED: ['', 'hold,release'],
  // Refused before anything was held, or its file refused by the bank (the hold given back).
  FAILED: ['', 'hold,release'],
};

function postedLegs(legs: readonly LegRow[] | undefined): string {
  return (legs ?? [])
    .filter((leg) => leg.outcome === 'posted')
    .map((leg) => leg.leg)
    .sort()
    .join(',');
}

/**
 * Invariant 13: every payout is final (RETURNED, CANCELED, FAILED, or SETTLED past its return
 * window), or waiting with a known deadline: SETTLED inside its return window, or a status before
 * settlement entered less than its bound ago. Every payout an answer accepted has a record.
 */
export function payoutsFinalOrWaiting(
  rails: RailsSnapshot,
  accepted: ReadonlySet<string>,
  bounds: PayoutBounds,
  accepted_min: number,
): InvariantResult {
  const now = rails.read_at_ms;
  const broken: string[] = [];
  const final: Record<string, number> = {};
  const waiting: Record<string, number> = {};
  let latestDeadline = now;
  const wait = (row: PayoutRow, deadline: number | null, label: string) => {
    if (deadline === null) return broken.push(`${row.payout_id}: ${row.status} with no deadline`);
    if (deadline <= now)
      return broken.push(`${row.payout_id}: ${label} since ${((now - deadline) / 1000).toFixed(1)} s`);
    waiting[row.status] = (waiting[row.status] ?? 0) + 1;
    latestDeadline = Math.max(latestDeadline, deadline);
  };
  for (const row of rails.payouts.values()) {
    if (payout_final_statuses.has(row.status)) final[row.status] = (final[row.status] ?? 0) + 1;
    else if (row.status === 'SETTLED') {
      if (row.return_window_ends_at_ms !== null && row.return_window_ends_at_ms <= now)
        final['SETTLED past its window'] = (final['SETTLED past its window'] ?? 0) + 1;
      else wait(row, row.return_window_ends_at_ms, 'SETTLED past its window and not final');
    } else if (payout_before_bank.has(row.status))
      wait(row, row.status_changed_at_ms + bounds.before_bank_ms, `stuck ${row.status}`);
    else if (row.status === 'SUBMITTED') wait(row, row.status_changed_at_ms + bounds.submitted_ms, 'stuck SUBMITTED');
    else broken.push(`${row.payout_id}: unknown status ${row.status}`);
  }
  const missing = [...accepted].filter((id) => !rails.payouts.has(id));
  if (accepted.size < accepted_min)
    broken.unshift(`only ${accepted.size} payouts accepted, at least ${accepted_min} expected`);
  broken.push(...missing.map((id) => `${id}: accepted, no record`));
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status} ${count}`)
      .join(', ') || 'none';
  return {
    id: 13,
    name: 'every payout is final, or waiting with a known deadline',
    held: broken.length === 0,
    figures: `${rails.payouts.size} payouts (${accepted.size} accepted by the API, at least ${accepted_min}, ${missing.length} without a record): final ${list(final)}; waiting ${list(waiting)}${Object.keys(waiting).length > 0 ? `, the last deadline ${((latestDeadline - now) / 1000).toFixed(1)} s after the check` : ''}; ${broken.length} broken`,
    examples: broken.slice(0, examples_max),
  };
}

/** What the ledger moved through the settlement account for each payout, by leg. */
function settlementOf(legs: readonly LegRow[] | undefined, leg: string): bigint {
  return (legs ?? [])
    .filter((row) => row.leg === leg && row.outcome === 'posted')
    .reduce((sum, row) => sum + (row.settlement_minor ?? 0n), 0n);
}

/**
 * Invariant 14: the bank and the ledger agree on every payout. Entry by entry (by trace number):
 * an entry the bank settled is the payout's posted settle leg, a return after settlement its
 * return leg, a return before settlement its release; the amounts are the payout's; every legs
 * set is one its status allows; the bank holds no entry the wallet never sent. And in total: what
 * the bank's settlement account paid out for payouts is what the ledger's settle legs moved, and
 * what came back is what its return legs took back.
 */
export function bankMatchesLedger(rails: RailsSnapshot, legs: LedgerSnapshot['legs']): InvariantResult {
  const broken: string[] = [];
  const byTrace = new Map<string, PayoutRow>();
  let ledgerSettled = 0n;
  let ledgerReturned = 0n;
  let matched = 0;
  for (const row of rails.payouts.values()) {
    const payoutLegs = legs.get(row.payout_id);
    const posted = postedLegs(payoutLegs);
    ledgerSettled += settlementOf(payoutLegs, 'settle');
    ledgerReturned -= settlementOf(payoutLegs, 'return');
    if (!(allowed_payout_legs[row.status] ?? []).includes(posted))
      broken.push(`${row.payout_id}: ${row.status} with legs ${posted || 'none'}`);
    if (row.trace_number !== null) byTrace.set(row.trace_number, row);
    const entry = row.trace_number === null ? undefined : rails.bank_entries.get(row.trace_number);
    const mismatch = entryMismatch(row, posted, entry);
    if (mismatch) broken.push(`${row.payout_id} (${row.status}, legs ${posted || 'none'}): ${mismatch}`);
    else if (entry) matched++;
  }
  for (const trace of rails.bank_entries.keys())
    if (!byTrace.has(trace)) broken.push(`bank entry ${trace}: no payout of the wallet carries it`);
  const bankSettled = -rails.bank_lines.payout_settled;
  const bankReturned = rails.bank_lines.payout_returned;
  if (bankSettled !== ledgerSettled)
    broken.push(`settled: the bank paid out ${bankSettled}, the ledger settled ${ledgerSettled}`);
  if (bankReturned !== ledgerReturned)
    broken.push(`returned: the bank took back ${bankReturned}, the ledger returned ${ledgerReturned}`);
  return {
    id: 14,
    name: "the bank's settled and returned totals are the ledger's; each bank entry is its payout's legs",
    held: broken.length === 0,
    figures: `${rails.bank_entries.size} bank entries, ${matched} matched to their payout; settled: bank ${bankSettled}, ledger ${ledgerSettled}; returned after settlement: bank ${bankReturned}, ledger ${ledgerReturned}; ${broken.length} broken`,
    examples: broken.slice(0, examples_max),
  };
}

/** Why a payout and the bank's entry of it disagree; null when they agree. */
function entryMismatch(row: PayoutRow, posted: string, entry: BankEntryRow | undefined): string | null {
  const atBank =
    ['SUBMITTED', 'SETTLED'].includes(row.status) || (row.status === 'RETURNED' && row.trace_number !== null);
  if (!entry)
    return atBank ? `${row.status}, but the bank has no entry ${row.trace_number ?? '(no trace number)'}` : null;
  if (entry.amount !== row.amount) return `the bank's entry is ${entry.amount}, the payout ${row.amount}`;
  const settledInLedger = posted.split(',').includes('settle');
  if (entry.settled !== settledInLedger)
    return `the bank ${entry.settled ? 'settled' : 'did not settle'} it, the ledger ${settledInLedger ? 'settled' : 'did not settle'} it`;
  const returnedAtBank = entry.status === 'RETURNED';
  if (returnedAtBank !== (row.status === 'RETURNED'))
    return `the bank's entry is ${entry.status}, the payout ${row.status}`;
  if (returnedAtBank && entry.return_code !== row.return_code)
    return `the bank returned it ${entry.return_code}, the payout says ${row.return_code}`;
  return null;
}

/** An incoming credit the run sent to the bank, and what must become of it. */
export interface SentCredit {
  trace_number: string;
  /** known: a live wallet's virtual account; closed: a closed wallet's; unknown: no wallet's. */
  to: 'known' | 'unknown' | 'closed';
  /** The wallet a known credit must reach. */
  user_id: string | null;
  amount: bigint;
}

/** The NACHA code a credit the wallet cannot take goes back with. */
const expected_return_code = { unknown: 'R03', closed: 'R02' } as const;

/**
 * Invariant 15: nothing is credited twice, and nothing reaches a wallet it must not. Each trace
 * number the bank sent has at most one posted pay-in credit and one deposit row, whatever the
 * bank delivered twice; a credit to a live wallet is credited exactly once, to that wallet, with
 * its amount; one to an unknown account or a closed wallet moves nothing and the bank has it back
 * (R03, R02). In total, what the bank's settlement account kept of incoming credits is what the
 * ledger's pay-ins credited.
 */
export function creditedOnce(
  rails: RailsSnapshot,
  legs: LedgerSnapshot['legs'],
  sent: readonly SentCredit[],
  sent_min: number,
): InvariantResult {
  const broken: string[] = [];
  const outcome: Record<string, number> = {};
  const depositsByTrace = new Map<string, number>();
  for (const deposit of rails.payin_deposits)
    depositsByTrace.set(deposit.trace_number, (depositsByTrace.get(deposit.trace_number) ?? 0) + 1);
  let ledgerCredited = 0n;
  for (const [id, rows] of legs) {
    if (!id.startsWith(payin_posting_prefix)) continue;
    const posted = rows.filter((row) => row.outcome === 'posted');
    if (rows.length > 1 || posted.some((row) => row.leg !== 'credit'))
      broken.push(`${id}: legs ${rows.map((row) => `${row.leg} ${row.outcome} on shard ${row.shard}`).join(', ')}`);
    ledgerCredited -= posted.reduce((sum, row) => sum + (row.settlement_minor ?? 0n), 0n);
  }
  for (const [trace, count] of depositsByTrace) if (count > 1) broken.push(`${trace}: ${count} deposit rows`);
  // A credits file the bank sent again under a new id: read in full, every entry found decided already.
  for (const resent of rails.resent_credit_files) {
    const read = rails.payin_file_rows.get(resent.cursor);
    if (!read || read.credits !== 0 || read.duplicates !== resent.entries)
      broken.push(
        `file ${resent.cursor} (file ${resent.resends} again, ${resent.entries} credits): ${read ? `the poller credited ${read.credits} and found ${read.duplicates} decided` : 'never read by the poller'}`,
      );
  }
  for (const credit of sent) {
    const wrong = creditMismatch(credit, rails, legs.get(`${payin_posting_prefix}${credit.trace_number}`));
    const label = `${credit.to} ${wrong ? 'wrong' : credit.to === 'known' ? 'credited once' : `returned ${expected_return_code[credit.to]}`}`;
    outcome[label] = (outcome[label] ?? 0) + 1;
    if (wrong) broken.push(`${credit.trace_number} (${credit.to}): ${wrong}`);
  }
  const bankKept = rails.bank_lines.incoming_credit + rails.bank_lines.incoming_credit_returned;
  if (bankKept !== ledgerCredited)
    broken.push(`the bank kept ${bankKept} of incoming credits, the ledger credited ${ledgerCredited}`);
  if (sent.length < sent_min) broken.unshift(`only ${sent.length} credits sent, at least ${sent_min} expected`);
  const outcomes = Object.entries(outcome)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, count]) => `${label} ${count}`)
    .join(', ');
  return {
    id: 15,
    name: 'nothing credited twice; no unknown or closed account credited',
    held: broken.length === 0,
    figures: `${sent.length} credits sent (at least ${sent_min}): ${outcomes || 'none'}; the pay-in poller finished ${rails.payin_files.files} bank files and found ${rails.payin_files.duplicates} credits decided already; the bank resent ${rails.resent_credit_files.length} credits files under a new id (${rails.resent_credit_files.reduce((sum, file) => sum + file.entries, 0)} credits again); the bank kept ${bankKept} of incoming credits, the ledger credited ${ledgerCredited}; ${broken.length} broken`,
    examples: broken.slice(0, examples_max),
  };
}

function creditMismatch(credit: SentCredit, rails: RailsSnapshot, legs: readonly LegRow[] | undefined): string | null {
  const atBank = rails.bank_credits.get(credit.trace_number);
  if (!atBank) return 'the bank has no such credit';
  const posted = (legs ?? []).filter((row) => row.outcome === 'posted');
  const deposits = rails.payin_deposits.filter((deposit) => deposit.trace_number === credit.trace_number);
  if (credit.to === 'known') {
    if (posted.length !== 1 || deposits.length !== 1)
      return `${posted.length} posted credits and ${deposits.length} deposit rows, one each expected`;
    if (deposits[0]!.user_id !== credit.user_id || deposits[0]!.amount !== credit.amount)
      return `credited ${deposits[0]!.amount} to ${deposits[0]!.user_id}, sent ${credit.amount} to ${credit.user_id}`;
    if (posted[0]!.customer_minor !== credit.amount) return `the credit leg moved ${posted[0]!.customer_minor}`;
    if (atBank.return_code !== null) return `credited, and returned ${atBank.return_code} as well`;
    return null;
  }
  if (posted.length > 0 || deposits.length > 0) return `credited to ${deposits[0]?.user_id ?? 'a wallet'}`;
  if (atBank.return_code !== expected_return_code[credit.to])
    return `the bank has it ${atBank.return_code === null ? 'not returned' : `returned ${atBank.return_code}`}, ${expected_return_code[credit.to]} expected`;
  return null;
}

/**
 * What is still moving on the rails: the run waits until this is empty (or its bound passes)
 * before it checks. A payout not yet at the bank, or submitted and not settled; an entry the bank
 * has not settled, or will still return; a bank entry or credit the wallet has not heard of yet.
 */
export function railsStillMoving(rails: RailsSnapshot): string[] {
  const moving: string[] = [];
  const byTrace = new Map([...rails.payouts.values()].map((row) => [row.trace_number, row]));
  for (const row of rails.payouts.values())
    if (payout_before_bank.has(row.status) || row.status === 'SUBMITTED') moving.push(`${row.payout_id} ${row.status}`);
  for (const entry of rails.bank_entries.values()) {
    const payout = byTrace.get(entry.trace_number);
    if (entry.status === 'ACCEPTED') moving.push(`bank entry ${entry.trace_number} not settled yet`);
    else if (entry.status === 'SETTLED' && entry.return_code !== null)
      moving.push(`bank entry ${entry.trace_number} to be returned ${entry.return_code}`);
    else if (entry.status === 'RETURNED' && payout?.status !== 'RETURNED')
      moving.push(`bank entry ${entry.trace_number} returned, its payout ${payout?.status ?? 'unknown'}`);
  }
  for (const resent of rails.resent_credit_files)
    if (!rails.payin_file_rows.has(resent.cursor))
      moving.push(`resent credits file ${resent.cursor} not read by the wallet`);
  for (const credit of rails.bank_credits.values()) {
    const decided = rails.payin_credits.get(credit.trace_number);
    if (decided?.status !== 'credited' && credit.return_code === null)
      moving.push(`credit ${credit.trace_number} ${decided?.status ?? 'not read by the wallet'}`);
  }
  return moving;
}

/** What clients of the payouts API were told, kept for invariant 16. */
export interface PayoutObservations {
  /** Every payout id an answer accepted. */
  accepted: Set<string>;
  /** Idempotency key -> the payout ids its 2xx answers named. */
  by_key: Map<string, Set<string>>;
  /** The same key with another amount: each answer's status and code. */
  reused: { key: string; status: number; code: string | null }[];
  /** Ops cancels: the answer, and whether it said CANCELED. */
  cancels: { payout_id: string; status: number; code: string | null; canceled: boolean }[];
  /** The race's payouts the API accepted, and how many it refused at once (422 insufficient_funds). */
  race_ids: string[];
  race_refused: number;
  /** Answers no client should get, by status and code. */
  unexpected: Record<string, number>;
}

export function newPayoutObservations(): PayoutObservations {
  return {
    accepted: new Set(),
    by_key: new Map(),
    reused: [],
    cancels: [],
    race_ids: [],
    race_refused: 0,
    unexpected: {},
  };
}

/** Statuses of a payout whose hold stands or whose money left. */
const payout_holding = new Set(['HELD', 'BATCHED', 'SUBMITTED', 'SETTLED']);

/**
 * Invariant 16: payout requests as the API promises them. A key names one payout; the same key
 * with another body is refused 422 idempotency_key_reused; payouts racing for one balance are
 * held exactly as many times as it affords; a payout is CANCELED only when an operator's cancel
 * said so; no valid request got an unexpected answer.
 */
export function payoutRequests(
  seen: PayoutObservations,
  rails: RailsSnapshot,
  race: { count: number; affordable: number },
  reuses_min: number,
): InvariantResult {
  const broken: string[] = [];
  for (const [key, ids] of seen.by_key) if (ids.size > 1) broken.push(`${key}: payouts ${[...ids].join(', ')}`);
  const reuseWrong = seen.reused.filter(
    (answer) => !(answer.status === 422 && answer.code === 'idempotency_key_reused'),
  );
  broken.push(...reuseWrong.map((answer) => `${answer.key}: reuse answered ${answer.status} ${answer.code ?? ''}`));
  if (seen.reused.length < reuses_min)
    broken.push(`only ${seen.reused.length} reuses, at least ${reuses_min} expected`);
  const held = seen.race_ids.filter((id) => payout_holding.has(rails.payouts.get(id)?.status ?? '')).length;
  const answered = seen.race_ids.length + seen.race_refused;
  if (held !== race.affordable || answered !== race.count)
    broken.push(`race: ${held} of ${race.count} held (${answered} answered), the balance affords ${race.affordable}`);
  const saidCanceled = new Set(seen.cancels.filter((cancel) => cancel.canceled).map((cancel) => cancel.payout_id));
  for (const row of rails.payouts.values())
    if ((row.status === 'CANCELED') !== saidCanceled.has(row.payout_id))
      broken.push(`${row.payout_id}: ${row.status}, ${saidCanceled.has(row.payout_id) ? '' : 'not '}told CANCELED`);
  const unexpected = Object.values(seen.unexpected).reduce((sum, count) => sum + count, 0);
  if (unexpected > 0) broken.push(`unexpected answers ${JSON.stringify(seen.unexpected)}`);
  const cancels = seen.cancels.reduce<Record<string, number>>((counts, cancel) => {
    const label = cancel.canceled ? 'CANCELED' : `${cancel.status} ${cancel.code ?? ''}`.trim();
    counts[label] = (counts[label] ?? 0) + 1;
    return counts;
  }, {});
  return {
    id: 16,
    name: 'payouts: one per key, other body 422, a race held exactly as often as the balance affords, canceled only when told',
    held: broken.length === 0,
    figures: `${seen.by_key.size} keys, ${[...seen.by_key.values()].filter((ids) => ids.size > 1).length} with two payouts; ${seen.reused.length} reuses (at least ${reuses_min}), ${seen.reused.length - reuseWrong.length} answered 422 idempotency_key_reused; race: ${race.count} payouts, ${held} held, ${seen.race_refused} refused at once, affordable ${race.affordable}; cancels ${JSON.stringify(cancels)}; unexpected answers ${unexpected}`,
    examples: broken.slice(0, examples_max),
  };
}

/** What POST /v1/ops/settlement/{date} answered for one banking day (or GET, when the run outlasted the POST's wait). */
export interface SettlementAnswer {
  date: string;
  status: number;
  body: any;
}

/**
 * Invariant 17: settlement reconciliation (workflows/settlement-reconcile.ts), run for every day
 * the run touched once nothing on the rails moves, finds no break: every line of the bank's
 * statements matched in the ledger, none missing on either side, no amount apart, and none still
 * in transit (the rails settled, so the wallet has heard of everything the bank posted). Between
 * them the days match every line the bank's settlement account has.
 */
export function settlementReconciled(answers: readonly SettlementAnswer[], bank_line_count: number): InvariantResult {
  const broken: string[] = [];
  const days: string[] = [];
  let matched = 0;
  for (const { date, status, body } of answers) {
    if (status !== 200) {
      broken.push(`${date}: answered ${status} ${JSON.stringify(body?.error ?? body)}`);
      continue;
    }
    const report = body.report;
    const inTransit = (report.in_transit as unknown[]).length;
    matched += report.matched.count as number;
    days.push(
      `${date}: ${report.matched.count} of ${report.bank.line_count} bank lines matched (net ${report.matched.net_minor}), ${body.break_count} breaks, ${inTransit} in transit, ${(report.across_midnight as unknown[]).length} across midnight`,
    );
    if (body.ok !== true || body.break_count !== 0)
      broken.push(
        `${date}: ${body.break_count} breaks: ${JSON.stringify({ missing_in_ledger: report.missing_in_ledger, missing_at_bank: report.missing_at_bank, amount_mismatches: report.amount_mismatches }).slice(0, 500)}`,
      );
    if (inTransit > 0) broken.push(`${date}: ${inTransit} bank lines still in transit after the rails settled`);
    if (report.matched.count !== report.bank.line_count)
      broken.push(`${date}: ${report.matched.count} of ${report.bank.line_count} bank lines matched`);
  }
  if (matched !== bank_line_count)
    broken.push(
      `${matched} lines matched over the days reconciled, the bank's settlement account has ${bank_line_count}`,
    );
  if (bank_line_count === 0) broken.push('the bank has no settlement line: nothing to reconcile');
  return {
    id: 17,
    name: 'settlement reconciliation matches every bank line, with no break',
    held: broken.length === 0,
    figures: `${days.join('; ') || 'no day reconciled'}; the bank has ${bank_line_count} lines; ${broken.length} broken`,
    examples: broken.slice(0, examples_max),
  };
}
