import { pickIndex, seededRandom } from '../bench/load/prng';
import { shardForUser } from '../domain/shard-routing';

export const operation_kinds = [
  'transfer_same_shard',
  'transfer_cross_shard',
  'deposit',
  'withdrawal',
  'conversion',
  'held',
  'concurrent_duplicates',
  'reused_key',
  'frozen_recipient',
] as const;
export type OperationKind = (typeof operation_kinds)[number];

/** Share of each kind in the mix, in percent. */
const mix: Record<OperationKind, number> = {
  transfer_same_shard: 22,
  transfer_cross_shard: 25,
  deposit: 8,
  withdrawal: 8,
  conversion: 12,
  held: 6,
  concurrent_duplicates: 8,
  reused_key: 8,
  /** Ops freeze the recipient, the transfer's credit is refused and its debit refunded, then ops unfreeze. */
  frozen_recipient: 3,
};

export interface PlannedOperation {
  index: number;
  kind: OperationKind;
  from: string;
  to: string;
  amount: number;
  key: string;
  /** Sends the same request again once it is answered (a client that did not hear the answer). */
  retry: boolean;
  /** Held transfers: the operator's decision, and how long it takes. */
  decision: 'approve' | 'reject';
  decision_delay_ms: number;
  /** Completed transfers and conversions: an operator reverses it (forcing it when the recipient cannot cover it, if force). */
  reverse: boolean;
  force: boolean;
}

/**
 * What each user starts with: little enough that some debits are refused (insufficient funds, a
 * held transfer over the balance) and some recipients cannot cover a reversal (forced, then).
 */
export const initial_deposit_minor = 60_000;

/** Users spread evenly over the shards by the wallet's own routing. */
export function chaosUsers(seed: number, count: number, shardCount: number): string[][] {
  const byShard: string[][] = Array.from({ length: shardCount }, () => []);
  const quota = Math.ceil(count / shardCount);
  for (let candidate = 0; byShard.some((users) => users.length < quota); candidate++) {
    const userId = `c${seed}_${candidate}`;
    const users = byShard[shardForUser(userId, shardCount)]!;
    if (users.length < quota) users.push(userId);
  }
  return byShard;
}

/** The whole workload a seed gives, fixed before the run starts. */
export function planOperations(
  seed: number,
  count: number,
  byShard: string[][],
  reviewThresholdMinor: number,
): PlannedOperation[] {
  const random = seededRandom(seed);
  const between = (least: number, most: number) => least + pickIndex(random, most - least + 1);
  const pickKind = (): OperationKind => {
    let roll = random() * 100;
    for (const kind of operation_kinds) {
      roll -= mix[kind];
      if (roll < 0) return kind;
    }
    return 'transfer_cross_shard';
  };
  const all = byShard.flat();
  return Array.from({ length: count }, (_, index) => {
    const kind = pickKind();
    const fromShard = pickIndex(random, byShard.length);
    const sameShard = kind === 'transfer_same_shard' || (kind !== 'transfer_cross_shard' && random() < 0.3);
    const toShard = sameShard ? fromShard : (fromShard + 1 + pickIndex(random, byShard.length - 1)) % byShard.length;
    const senders = byShard[fromShard]!;
    const from = senders[pickIndex(random, senders.length)]!;
    const receivers = byShard[toShard]!.filter((user) => user !== from);
    const to = receivers[pickIndex(random, receivers.length)] ?? all.find((user) => user !== from)!;
    const amount = kind === 'held' ? between(reviewThresholdMinor, reviewThresholdMinor + 30_000) : between(100, 3_000);
    return {
      index,
      kind,
      from,
      to,
      amount,
      key: `op-${seed}-${index}`,
      retry: random() < 0.1,
      decision: random() < 0.7 ? 'approve' : 'reject',
      decision_delay_ms: between(200, 3_000),
      reverse: random() < 0.08,
      force: random() < 0.5,
    };
  });
}
