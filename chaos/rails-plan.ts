import { pickIndex, seededRandom } from '../bench/load/prng';
import { shardForUser } from '../domain/shard-routing';

/**
 * The rails' plan (issue 19): payouts, incoming credits and bank faults, fixed by the seed
 * before the run starts, each at an offset into the rails' span (chaos/rails.ts RailsClock).
 */

export const rails_fault_kinds = ['bank_kill', 'bank_outage', 'bank_duplicate_delivery', 'bank_late_delivery'] as const;
export type RailsFaultKind = (typeof rails_fault_kinds)[number];

export const payout_kinds = [
  'settles',
  'returned_after_settlement',
  'returned_before_settlement',
  'canceled',
  'reused_key',
] as const;
export type PayoutKind = (typeof payout_kinds)[number];

/** Share of each payout kind, in percent. */
const payout_mix: Record<PayoutKind, number> = {
  settles: 45,
  returned_after_settlement: 18,
  returned_before_settlement: 10,
  canceled: 15,
  reused_key: 12,
};

/**
 * The last four digits of the account a payout goes to: the bank's test matrix (bank/return-matrix.ts)
 * returns 0002, 0003, 0004 one banking day after settlement and 9003 instead of settling.
 */
export const account_suffixes = {
  plain: '1001',
  after_settlement: ['0002', '0003', '0004'],
  before_settlement: '9003',
} as const;

export type CreditTarget = 'known' | 'unknown' | 'closed';
const credit_mix: Record<CreditTarget, number> = { known: 70, unknown: 15, closed: 15 };

export interface PlannedPayout {
  index: number;
  kind: PayoutKind;
  user: string;
  /** The bank account's last four digits (account_suffixes). */
  suffix: string;
  amount: number;
  key: string;
  /** Sends the same request again once answered (a client that did not hear the answer). */
  retry: boolean;
  /**
   * A canceled payout's cancel comes this long after its acceptance: at once it wins against the
   * next cutoff; after a few cutoffs (one a second) its file has it, and the cancel is refused.
   */
  cancel_after_ms: number;
  at_ms: number;
}

export interface PlannedCredit {
  index: number;
  to: CreditTarget;
  /** The wallet a known credit goes to. */
  user: string | null;
  amount: number;
  at_ms: number;
}

export interface PlannedRailsFault {
  index: number;
  kind: RailsFaultKind;
  at_ms: number;
  /** How long the bank stays down, out, duplicating or late. */
  down_ms: number;
}

/** Payouts sent at once against one balance that affords only some of them. */
export interface PlannedRace {
  user: string;
  funded: number;
  amount: number;
  count: number;
  at_ms: number;
}

export interface RailsPlan {
  users: string[];
  /** A wallet closed before credits are sent to it (they must come back R02). */
  closed_user: string;
  payouts: PlannedPayout[];
  credits: PlannedCredit[];
  faults: PlannedRailsFault[];
  race: PlannedRace;
}

/** What each rails user starts with: enough that none of its planned payouts is refused. */
export const rails_funding_minor = 200_000;
const rails_users_per_shard = 2;
const race = { funded: 10_000, amount: 3_000, count: 8 } as const;

/** A late cancel comes after three cutoffs of the run (PAYOUT_CUTOFF_EVERY=1s). */
const late_cancel_ms = 3_000;

/** How long each bank fault lasts: [least, most] ms. */
const down_range: Record<RailsFaultKind, [number, number]> = {
  bank_kill: [300, 2_000],
  bank_outage: [2_000, 4_000],
  bank_duplicate_delivery: [3_000, 5_000],
  bank_late_delivery: [2_000, 4_000],
};

function pick<K extends string>(random: () => number, mix: Record<K, number>): K {
  let roll = random() * 100;
  const kinds = Object.keys(mix) as K[];
  for (const kind of kinds) {
    roll -= mix[kind];
    if (roll < 0) return kind;
  }
  return kinds[0]!;
}

/** The whole rails phase a seed gives; each fault kind `faults_per_kind` times, in a seeded order. */
export function planRails(
  seed: number,
  payoutCount: number,
  creditCount: number,
  faults_per_kind: number,
  shardCount: number,
  span_ms: number,
): RailsPlan {
  const random = seededRandom(seed ^ 0x7a11_5eed);
  const users = railsUsers(seed, shardCount);
  const at = () => Math.floor(random() * span_ms);
  const payouts = Array.from({ length: payoutCount }, (_, index): PlannedPayout => {
    const kind = pick(random, payout_mix);
    const suffix =
      kind === 'returned_after_settlement'
        ? account_suffixes.after_settlement[pickIndex(random, account_suffixes.after_settlement.length)]!
        : kind === 'returned_before_settlement'
          ? account_suffixes.before_settlement
          : account_suffixes.plain;
    return {
      index,
      kind,
      user: users[pickIndex(random, users.length)]!,
      suffix,
      amount: 100 + pickIndex(random, 2_900),
      key: `rails-${seed}-payout-${index}`,
      retry: random() < 0.15,
      cancel_after_ms: random() < 0.5 ? 0 : late_cancel_ms,
      at_ms: at(),
    };
  });
  const credits = Array.from({ length: creditCount }, (_, index): PlannedCredit => {
    const to = pick(random, credit_mix);
    return {
      index,
      to,
      user: to === 'known' ? users[pickIndex(random, users.length)]! : null,
      amount: 100 + pickIndex(random, 9_900),
      at_ms: at(),
    };
  });
  const kinds = rails_fault_kinds.flatMap((kind) => Array.from({ length: faults_per_kind }, () => kind));
  for (let index = kinds.length - 1; index > 0; index--) {
    const other = pickIndex(random, index + 1);
    [kinds[index], kinds[other]] = [kinds[other]!, kinds[index]!];
  }
  // Spread over the first 80% of the span, one slot each, so each meets payouts and credits.
  const slot = (span_ms * 0.8) / Math.max(1, kinds.length);
  const faults = kinds.map((kind, index): PlannedRailsFault => {
    const [least, most] = down_range[kind];
    return {
      index,
      kind,
      at_ms: Math.floor(slot * index + random() * slot * 0.3),
      down_ms: least + pickIndex(random, most - least + 1),
    };
  });
  return {
    users,
    closed_user: `rails${seed}_closed`,
    payouts: payouts.sort((a, b) => a.at_ms - b.at_ms),
    credits: credits.sort((a, b) => a.at_ms - b.at_ms),
    faults,
    race: { user: `rails${seed}_race`, ...race, at_ms: Math.floor(span_ms / 2) },
  };
}

/** Rails users spread over the shards by the wallet's own routing. */
function railsUsers(seed: number, shardCount: number): string[] {
  const byShard: string[][] = Array.from({ length: shardCount }, () => []);
  for (let candidate = 0; byShard.some((users) => users.length < rails_users_per_shard); candidate++) {
    const userId = `rails${seed}_${candidate}`;
    const users = byShard[shardForUser(userId, shardCount)]!;
    if (users.length < rails_users_per_shard) users.push(userId);
  }
  return byShard.flat();
}

/** How many of the race's payouts its balance affords: exactly these must be held. */
export function affordable(plan: PlannedRace): number {
  return Math.min(plan.count, Math.floor(plan.funded / plan.amount));
}

export function describeRailsFault(fault: PlannedRailsFault): string {
  const what = {
    bank_kill: `kill -9 the bank, restart after ${fault.down_ms} ms`,
    bank_outage: `bank outage for ${fault.down_ms} ms (POST /admin/faults outage_ms: every call answered 503)`,
    bank_duplicate_delivery: `bank duplicate delivery for ${fault.down_ms} ms (each poll gets the file at its cursor again)`,
    bank_late_delivery: `bank late delivery for ${fault.down_ms} ms (new files held back ${fault.down_ms} ms)`,
  }[fault.kind];
  return `rails #${String(fault.index).padStart(2, '0')} at ${(fault.at_ms / 1000).toFixed(1)} s: ${what}`;
}
