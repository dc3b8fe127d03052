import { createHash } from 'node:crypto';

/**
 * The reference shard: every shard has the same schema, but what belongs to no user (FX rates,
 * reconciliation runs and their chain progress) needs one home, and shard 0 is it.
 */
export const reference_shard = 0;

/**
 * The shard that holds a user's wallets: a pure function of the user id.
 * The first 8 bytes of SHA-256 spread ids evenly whatever their shape (sequential,
 * shared prefixes), and the result never changes for a given shard count.
 * Adding shards without moving users is a directory change, described in the README.
 */
export function shardForUser(userId: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`bad shard count ${shardCount}`);
  const digest = createHash('sha256').update(userId, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(shardCount));
}
