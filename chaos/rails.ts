import { sleep, type Answer, type ChaosClient } from './client';
import { BankGate, bankRequestRetrying, injectRailsFault } from './bank-faults';
import type { InjectedFault } from './faults';
import { readRails, type RailsSnapshot } from './rails-ledger';
import {
  newPayoutObservations,
  railsStillMoving,
  type PayoutObservations,
  type SentCredit,
  type SettlementAnswer,
} from './rails-invariants';
import {
  account_suffixes,
  describeRailsFault,
  planRails,
  rails_funding_minor,
  type PlannedCredit,
  type PlannedPayout,
  type PlannedRailsFault,
  type RailsPlan,
} from './rails-plan';
import type { ChaosStack } from './stack';
import { virtualAccountNumberOf } from '../domain/virtual-accounts';
import { ops_operator } from './workload';

/**
 * The rails (issue 19): payouts to bank accounts and credits from outside, through the run's
 * bank, while the bank is killed, out, delivering twice and delivering late. They run in the mix,
 * beside the transfer workload and its fault schedule, so a wallet's kill, a shard's outage or an
 * engine restart lands between a payout's hold and its cutoff, its upload and its recording, or
 * during a return; the run's clock (`RailsClock`) is the workload's progress.
 */

const ops = { sub: ops_operator, role: 'ops' as const };
/** The rails' operations are spread over this long at least (10 a second at most); its faults over the first 80% of it. */
const rails_span_min_ms = 20_000;
const rails_span_per_operation_ms = 100;
/** Past this after the last fault healed and the last operation ended, what still moves is reported as stuck. */
export const rails_settle_within_ms = 60_000;
const settle_poll_ms = 1_000;
/** Every payout goes to this bank (a valid ABA routing number; the bank's test matrix reads only the account number). */
const payee_routing = '021000021';
const originator_name = 'CHAOS ORIGINATOR';

export interface RailsOptions {
  seed: number;
  payouts: number;
  credits: number;
  faults_per_kind: number;
  shard_count: number;
  /** The rails' operations and bank faults are spread over at least this long (the workload's own span). */
  span_ms: number;
}

/** Resolves once the run is `offset_ms` into the rails' plan (or at once when the run is past it). */
export type RailsClock = (offset_ms: number) => Promise<void>;

/** The plan and its parties, ready before the mix starts. */
export interface RailsReady {
  plan: RailsPlan;
  parties: RailsParties;
}

export interface RailsRun {
  plan: RailsPlan;
  seen: PayoutObservations;
  sent: SentCredit[];
  injected: InjectedFault[];
  /** How long after the last fault healed and the last operation ended nothing moved any more; null if never. */
  settled_after_ms: number | null;
  /** The last read of the rails: the invariants judge it. */
  rails: RailsSnapshot;
}

/** Who pays out to which bank account, and the account numbers credits are sent to. */
interface RailsParties {
  /** user -> account suffix -> bank_account_id */
  bank_accounts: Map<string, Map<string, string>>;
  /** user -> virtual account number at the bank */
  virtual_accounts: Map<string, string>;
  closed_account: string;
}

/** The rails' plan fixed by the seed, and its users created, funded and given bank accounts. */
export async function prepareRails(client: ChaosClient, options: RailsOptions): Promise<RailsReady> {
  const plan = planRails(
    options.seed,
    options.payouts,
    options.credits,
    options.faults_per_kind,
    options.shard_count,
    Math.max(rails_span_min_ms, options.span_ms, (options.payouts + options.credits) * rails_span_per_operation_ms),
  );
  console.log(`chaos: rails in the mix; bank faults:\n  ${plan.faults.map(describeRailsFault).join('\n  ')}`);
  return { plan, parties: await setUpParties(client, plan) };
}

/** Sends the planned payouts and credits and injects the bank faults, each when `at` says; resolves when all ended. */
export async function runRails(
  stack: ChaosStack,
  client: ChaosClient,
  { plan, parties }: RailsReady,
  at: RailsClock,
): Promise<Omit<RailsRun, 'settled_after_ms' | 'rails'>> {
  const seen = newPayoutObservations();
  const sent: SentCredit[] = [];
  const gate = new BankGate();
  const send = async (credit: PlannedCredit) => {
    sent.push(await gate.through(() => sendCredit(stack, credit, parties)));
  };
  const faults = (async () => {
    const injected: InjectedFault[] = [];
    for (const fault of plan.faults) {
      await at(fault.at_ms);
      const done = await injectRailsFault(stack.bank, fault, gate, () => send(nudgeOf(plan, fault)));
      console.log(`chaos: ${describeRailsFault(fault)} -> ${done.detail}`);
      injected.push(done);
    }
    return injected;
  })();
  const operations = [
    ...plan.payouts.map(async (payout) => {
      await at(payout.at_ms);
      await sendPayout(client, payout, parties, seen);
    }),
    ...plan.credits.map(async (credit) => {
      await at(credit.at_ms);
      await send(credit);
    }),
    (async () => {
      await at(plan.race.at_ms);
      await race(client, plan, parties, seen);
    })(),
  ];
  const [injected] = await Promise.all([faults, Promise.all(operations)]);
  return { plan, seen, sent, injected };
}

/** The credit a switched-on fault sends when no file came in its window: to a wallet, numbered after the planned ones. */
function nudgeOf(plan: RailsPlan, fault: PlannedRailsFault): PlannedCredit {
  return {
    index: plan.credits.length + fault.index,
    to: 'known',
    user: plan.users[fault.index % plan.users.length]!,
    amount: 100 + fault.index,
    at_ms: fault.at_ms,
  };
}

/** Users created and funded, their bank accounts registered, their virtual accounts read, one wallet closed. */
async function setUpParties(client: ChaosClient, plan: RailsPlan): Promise<RailsParties> {
  const everyone = [...plan.users, plan.race.user, plan.closed_user];
  const funding = new Map([
    ...plan.users.map((user) => [user, rails_funding_minor] as const),
    [plan.race.user, plan.race.funded],
  ]);
  const parties: RailsParties = { bank_accounts: new Map(), virtual_accounts: new Map(), closed_account: '' };
  await Promise.all(
    everyone.map(async (user, index) => {
      expect(await client.retrying('POST', '/v1/wallet/users', ops, { user_id: user }), 201, `creating ${user}`);
      const amount = funding.get(user);
      if (amount !== undefined)
        expect(
          await client.retrying('POST', `/v1/wallet/${user}/deposits?wait=10`, ops, {
            amount,
            currency: 'USD',
            idempotency_key: `rails-fund-${user}`,
          }),
          200,
          `funding ${user}`,
        );
      const suffixes = user === plan.race.user ? [account_suffixes.plain] : suffixesOf(user, plan);
      const accounts = new Map<string, string>();
      for (const suffix of suffixes) {
        const registered = await client.retrying('POST', `/v1/wallet/${user}/bank-accounts`, ops, {
          routing_number: payee_routing,
          account_number: `${String(index + 1).padStart(6, '0')}${suffix}`,
          holder_name: `Chaos ${user}`.slice(0, 22),
          account_type: 'checking',
        });
        if (registered.status !== 201 && registered.status !== 200)
          throw new Error(
            `registering a bank account of ${user} answered ${registered.status} ${JSON.stringify(registered.body)}`,
          );
        accounts.set(suffix, registered.body.bank_account_id as string);
      }
      parties.bank_accounts.set(user, accounts);
      if (user === plan.race.user) return;
      const funding_instructions = await client.retrying('GET', `/v1/wallet/${user}/funding-instructions`, ops);
      expect(funding_instructions, 200, `the funding instructions of ${user}`);
      parties.virtual_accounts.set(user, funding_instructions.body.account_number as string);
    }),
  );
  parties.closed_account = parties.virtual_accounts.get(plan.closed_user)!;
  parties.virtual_accounts.delete(plan.closed_user);
  expect(
    await client.retrying('POST', `/v1/ops/users/${plan.closed_user}/close`, ops, {
      reason: 'chaos: credits to it must come back R02',
    }),
    200,
    `closing ${plan.closed_user}`,
  );
  return parties;
}

function suffixesOf(user: string, plan: RailsPlan): string[] {
  return [...new Set(plan.payouts.filter((payout) => payout.user === user).map((payout) => payout.suffix))];
}

function expect(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) throw new Error(`${what} answered ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Records a payout answer; returns its payout id when it accepted the request. */
function note(seen: PayoutObservations, key: string, answer: Answer): string | null {
  if (answer.status === 202 && typeof answer.body?.payout_id === 'string') {
    const id = answer.body.payout_id as string;
    seen.accepted.add(id);
    seen.by_key.set(key, (seen.by_key.get(key) ?? new Set<string>()).add(id));
    return id;
  }
  const label = `${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
  seen.unexpected[label] = (seen.unexpected[label] ?? 0) + 1;
  return null;
}

async function sendPayout(
  client: ChaosClient,
  payout: PlannedPayout,
  parties: RailsParties,
  seen: PayoutObservations,
): Promise<void> {
  const as = { sub: payout.user, role: 'customer' as const };
  const path = `/v1/wallet/${payout.user}/payouts`;
  const body = {
    bank_account_id: parties.bank_accounts.get(payout.user)!.get(payout.suffix)!,
    amount: payout.amount,
    currency: 'USD',
    idempotency_key: payout.key,
  };
  const id = note(seen, payout.key, await client.retrying('POST', path, as, body));
  if (id === null) return;
  if (payout.kind === 'canceled') {
    // At once most win against the next cutoff; late ones are refused (409), and must not end CANCELED.
    await sleep(payout.cancel_after_ms);
    const answer = await client.retrying('POST', `/v1/ops/payouts/${id}/cancel`, ops, { reason: 'chaos cancel' });
    const canceled = answer.status === 200 && answer.body?.status === 'CANCELED';
    const code = answer.body?.error?.code ?? null;
    seen.cancels.push({ payout_id: id, status: answer.status, code, canceled });
    if (!canceled && !(answer.status === 409 && code === 'payout_not_cancelable')) note(seen, payout.key, answer);
  }
  if (payout.kind === 'reused_key') {
    const other = await client.retrying('POST', path, as, { ...body, amount: payout.amount + 1 });
    seen.reused.push({ key: payout.key, status: other.status, code: other.body?.error?.code ?? null });
  }
  if (payout.retry) note(seen, payout.key, await client.retrying('POST', path, as, body));
}

/** Payouts at once against one balance: only as many as it affords may be held. */
async function race(client: ChaosClient, plan: RailsPlan, parties: RailsParties, seen: PayoutObservations) {
  const { user, amount, count } = plan.race;
  const bank_account_id = parties.bank_accounts.get(user)!.get(account_suffixes.plain)!;
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      client.retrying(
        'POST',
        `/v1/wallet/${user}/payouts`,
        { sub: user, role: 'customer' },
        {
          bank_account_id,
          amount,
          currency: 'USD',
          idempotency_key: `rails-${plan.race.user}-race-${index}`,
        },
      ),
    ),
  );
  answers.forEach((answer, index) => {
    if (answer.status === 422 && answer.body?.error?.code === 'insufficient_funds') seen.race_refused++;
    else {
      const id = note(seen, `rails-${plan.race.user}-race-${index}`, answer);
      if (id !== null) seen.race_ids.push(id);
    }
  });
}

/** Someone outside pays into an account at our bank: a wallet's, a closed wallet's or no one's. */
async function sendCredit(stack: ChaosStack, credit: PlannedCredit, parties: RailsParties): Promise<SentCredit> {
  const account_number =
    credit.to === 'known'
      ? parties.virtual_accounts.get(credit.user!)!
      : credit.to === 'closed'
        ? parties.closed_account
        : unknownAccountOf(credit.index);
  const answer = await bankRequestRetrying(stack.bank, 'POST', '/simulate/incoming-credit', {
    account_number,
    amount_minor: credit.amount,
    originator_name,
  });
  if (answer.status !== 201)
    throw new Error(`a credit to the bank answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return {
    trace_number: answer.body.trace_number as string,
    to: credit.to,
    user_id: credit.user,
    amount: BigInt(credit.amount),
  };
}

/**
 * An account number at our bank that is no wallet's: every other one shaped like a virtual
 * account with a valid check digit (from the top of the counter, which a run never reaches), the
 * others shaped like none of ours.
 */
function unknownAccountOf(index: number): string {
  return index % 2 === 0
    ? virtualAccountNumberOf(9_999_999_999n - BigInt(index))
    : `9${String(index).padStart(8, '0')}`;
}

/** Polls until nothing on the rails still moves; how long after `sinceMs` that was, or null past the bound. */
export async function settleRails(
  stack: ChaosStack,
  sinceMs: number,
): Promise<{ rails: RailsSnapshot; settled_after_ms: number | null }> {
  for (;;) {
    const rails = await readRails(stack.shardUrls, stack.bank.database_url);
    const moving = railsStillMoving(rails);
    if (moving.length === 0) return { rails, settled_after_ms: Math.max(0, Date.now() - sinceMs) };
    if (Date.now() > sinceMs + rails_settle_within_ms) {
      console.error(
        `chaos: the rails still move after ${rails_settle_within_ms / 1000} s: ${moving.slice(0, 5).join('; ')}`,
      );
      return { rails, settled_after_ms: null };
    }
    await sleep(settle_poll_ms);
  }
}

/** How long a reconciliation still running after the POST's own wait is waited for, and how often it is read. */
const settlement_wait_ms = 120_000;
const settlement_poll_ms = 2_000;

/**
 * Settlement reconciliation (POST /v1/ops/settlement/{date}) of every UTC day from `sinceMs` to
 * now; a run that outlasts the POST's wait (202) is read with GET once it is the latest.
 */
export async function reconcileSettlement(client: ChaosClient, sinceMs: number): Promise<SettlementAnswer[]> {
  const answers: SettlementAnswer[] = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let day = new Date(sinceMs).toISOString().slice(0, 10); day <= today; day = nextDay(day)) {
    const path = `/v1/ops/settlement/${day}`;
    let answer = await client.retrying('POST', path, ops);
    const deadline = Date.now() + settlement_wait_ms;
    while (answer.status === 202 && Date.now() < deadline) {
      await sleep(settlement_poll_ms);
      const latest = await client.retrying('GET', path, ops);
      if (latest.status === 200 && latest.body.workflow_id === answer.body.workflow_id) answer = latest;
    }
    answers.push({ date: day, status: answer.status, body: answer.body });
  }
  return answers;
}

function nextDay(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}
