import type { ShardSet } from '../db/shards';
import { findUser } from '../ledger/users';
import { ApiError } from './errors';

/** 404 user_not_found unless the user exists on its shard. */
export async function requireUser(shards: ShardSet, userId: string): Promise<void> {
  const user = await findUser(shards.pool(shards.shardOf(userId)), userId);
  if (!user) throw new ApiError('user_not_found', `user ${userId} does not exist`);
}
