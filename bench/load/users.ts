import { shardForUser } from '../../domain/shard-routing';

export interface BenchUsers {
  all: string[];
  /** Users of each shard; the same count on every shard (give or take one). */
  byShard: string[][];
  /** The account 80% of transfers involve under `--skew hot`, else null. */
  hot: string | null;
}

/**
 * Every user appears on both sides of some pair, and same-shard pairs need two users on a shard
 * other than the hot one: three per shard is the least that always works.
 */
const users_per_shard_min = 3;

/**
 * User ids for one run, spread evenly over the shards by the wallet's own routing. The run tag
 * keeps them apart from any earlier run on the same deployment (`--target`).
 */
export function benchUsers(runTag: string, count: number, shardCount: number, hot: boolean): BenchUsers {
  if (count < users_per_shard_min * shardCount) {
    throw new Error(
      `--users ${count} is too few for ${shardCount} shards: at least ${users_per_shard_min * shardCount}`,
    );
  }
  const quota = (shard: number) => Math.floor(count / shardCount) + (shard < count % shardCount ? 1 : 0);
  const byShard: string[][] = Array.from({ length: shardCount }, () => []);
  let filled = 0;
  // Hashing spreads ids evenly, so the candidates needed are only a little more than count.
  for (let candidate = 0; filled < count; candidate++) {
    const userId = `b${runTag}_${candidate}`;
    const shard = shardForUser(userId, shardCount);
    if (byShard[shard]!.length < quota(shard)) {
      byShard[shard]!.push(userId);
      filled++;
    }
  }
  return { all: byShard.flat(), byShard, hot: hot ? byShard[0]![0]! : null };
}
