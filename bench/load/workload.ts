import { pickIndex, seededRandom } from './prng';
import type { BenchUsers } from './users';

export interface TransferPlan {
  fromUserId: string;
  toUserId: string;
  amountMinor: bigint;
  crossShard: boolean;
  /** Set when the transfer converts: the currency the recipient gets. */
  targetCurrency?: string;
}

export interface WorkloadOptions {
  cross_shard_fraction: number;
  /** Fraction of transfers that convert into fx_currency (0: none, and no random draw for it). */
  fx_fraction?: number;
  fx_currency?: string;
  skew: 'uniform' | 'hot';
  seed: number;
}

/** Share of transfers that involve the hot account under `--skew hot` (the 80 of 80/20). */
const hot_share = 0.8;
const transfer_amount_min_minor = 100n;
const transfer_amount_span_minor = 9_900n;

/**
 * The sequence of transfers every phase sends: the k-th call returns the same plan in every
 * phase. Hot transfers alternate the hot account between sender and recipient, so its balance
 * random-walks around its funding instead of draining.
 */
export function transferPlanner(users: BenchUsers, options: WorkloadOptions): () => TransferPlan {
  const random = seededRandom(options.seed);
  const shardCount = users.byShard.length;
  const shardOf = new Map(users.byShard.flatMap((ids, shard) => ids.map((id) => [id, shard] as const)));
  const coldByShard = users.byShard.map((ids) => ids.filter((id) => id !== users.hot));
  let hotTransfers = 0;

  /** A cold user on the given shard other than `not`. */
  const coldOn = (shard: number, not: string): string => {
    const candidates = coldByShard[shard]!.filter((id) => id !== not);
    return candidates[pickIndex(random, candidates.length)]!;
  };
  const otherShard = (shard: number) => (shard + 1 + pickIndex(random, shardCount - 1)) % shardCount;
  const counterpartOf = (userId: string, crossShard: boolean) => {
    const shard = shardOf.get(userId)!;
    return coldOn(crossShard ? otherShard(shard) : shard, userId);
  };

  // Drawn from a second sequence, so the pairs and amounts are the same with or without --fx.
  const fxRandom = seededRandom(options.seed + 1);
  const converting = (plan: TransferPlan): TransferPlan =>
    options.fx_fraction && options.fx_currency && fxRandom() < options.fx_fraction
      ? { ...plan, targetCurrency: options.fx_currency }
      : plan;

  return () => converting(nextPlan());

  function nextPlan(): TransferPlan {
    const isHot = users.hot !== null && random() < hot_share;
    const crossShard = shardCount > 1 && random() < options.cross_shard_fraction;
    const amountMinor = transfer_amount_min_minor + BigInt(pickIndex(random, Number(transfer_amount_span_minor)));
    if (isHot) {
      const hot = users.hot!;
      const other = counterpartOf(hot, crossShard);
      hotTransfers++;
      return hotTransfers % 2 === 1
        ? { fromUserId: hot, toUserId: other, amountMinor, crossShard }
        : { fromUserId: other, toUserId: hot, amountMinor, crossShard };
    }
    const fromUserId = coldOn(pickIndex(random, shardCount), '');
    return { fromUserId, toUserId: counterpartOf(fromUserId, crossShard), amountMinor, crossShard };
  }
}
