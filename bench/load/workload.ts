import { pickIndex, seededRandom } from './prng';
import type { BenchUsers } from './users';

export interface TransferPlan {
  fromUserId: string;
  toUserId: string;
  amountMinor: bigint;
  crossShard: boolean;
}

export interface WorkloadOptions {
  cross_shard_fraction: number;
  skew: 'uniform' | 'hot';
  seed: number;
}

/** Share of transfers that involve the hot account under `--skew hot` (the 80 of 80/20). */
export const hot_share = 0.8;
export const transfer_amount_min_minor = 100n;
export const transfer_amount_span_minor = 9_900n;

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

  return () => {
    const isHot = users.hot !== null && random() < hot_share;
    const crossShard = shardCount > 1 && random() < options.cross_shard_fraction;
    const amountMinor = transfer_amount_min_minor + BigInt(pickIndex(random, Number(transfer_amount_span_minor)));
    if (isHot) {
      const hot = users.hot!;
      const other = counterpartOf(hot, crossShard);
      hotTransfers++;
      return hotTransfers % 2 === 1 ? { fromUserId: hot, toUserId: other, amountMinor, crossShard } : { fromUserId: other, toUserId: hot, amountMinor, crossShard };
    }
    const fromUserId = coldOn(pickIndex(random, shardCount), '');
    return { fromUserId, toUserId: counterpartOf(fromUserId, crossShard), amountMinor, crossShard };
  };
}
