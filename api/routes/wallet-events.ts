import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { principalOf, requireSelfOrOps } from '../auth';
import { ApiError } from '../errors';
import { requireUser } from '../require-user';
import { LastEventIdHeader, UserIdParams } from '../schemas';
import { validate } from '../validate';
import { streamWalletEvents, type WalletFeeds } from '../wallet-feed';
import { walletEventHeads } from '../../ledger/wallet-events';

/** GET /v1/wallet/{user_id}/events: the wallet's live feed (api/wallet-feed.ts), authorized as its balance is. */
export function walletEventRoutes(shards: ShardSet, feeds: WalletFeeds): Router {
  const router = Router();

  router.get('/v1/wallet/:user_id/events', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const lastEventId = lastEventIdOf(request.get('last-event-id'));
    await requireUser(shards, user_id);
    const head = (await walletEventHeads(shards.pool(shards.shardOf(user_id)), [user_id])).get(user_id) ?? 0n;
    // A sequence number the wallet never had: another wallet's, or a typo. Nothing after it could be right.
    if (lastEventId > head)
      throw new ApiError(
        'invalid_last_event_id',
        `Last-Event-ID ${lastEventId} is past the wallet's last event (${head})`,
        { last_sequence: Number(head) },
      );
    const principal = principalOf(request);
    const release = feeds.tryOpen(`${principal.role}:${principal.userId}`, principal.role !== 'ops');
    if (!release)
      throw new ApiError('rate_limited', 'too many open event feeds; close one or retry later', undefined, 5);
    try {
      await streamWalletEvents(feeds, shards, response, { userId: user_id, afterSequence: lastEventId });
    } finally {
      release();
    }
  });

  return router;
}

/** The sequence number a reconnecting client last saw (0, or no header: from the wallet's first event). */
function lastEventIdOf(header: string | undefined): bigint {
  if (header === undefined) return 0n;
  if (!LastEventIdHeader.shape['last-event-id'].safeParse(header).success)
    throw new ApiError(
      'invalid_last_event_id',
      'Last-Event-ID is the sequence number of an event of this wallet: a decimal integer from 0 to 9223372036854775807',
    );
  return BigInt(header);
}
