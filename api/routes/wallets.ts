import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { balancesAt, balancesOf, historyOf } from '../../ledger/reads';
import { insertUser } from '../../ledger/users';
import { requireSelfOrOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { requireUser } from '../require-user';
import { BalanceQuery, CreateUserBody, HistoryQuery, UserIdParams } from '../schemas';
import { validate } from '../validate';
import { conversionJson, movementPathOf } from '../presenters';

/** Users, balances and history: reads and writes that touch one user's shard. */
export function walletRoutes(shards: ShardSet): Router {
  const router = Router();
  const poolOf = (userId: string) => shards.pool(shards.shardOf(userId));

  router.post('/v1/wallet/users', async (request, response) => {
    const { user_id } = validate(CreateUserBody, request.body, 'body');
    requireSelfOrOps(request, user_id);
    const created = await insertUser(poolOf(user_id), user_id);
    if (!created) throw new ApiError('user_exists', `user ${user_id} already exists`);
    sendJson(response, 201, { user_id, shard: shards.shardOf(user_id), created_at: created.createdAt.toISOString() });
  });

  router.get('/v1/wallet/:user_id/balance', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const { at } = validate(BalanceQuery, request.query, 'query');
    await requireUser(shards, user_id);
    // ?at= answers the ledger balance as it stood; what was held or available then is not kept.
    const balances =
      at === undefined
        ? (await balancesOf(poolOf(user_id), user_id)).map((line) => ({
            currency: line.currency,
            amount: line.amountMinor,
            available: line.availableMinor,
            pending_out: line.pendingOutMinor,
            pending_in: line.pendingInMinor,
          }))
        : (await balancesAt(poolOf(user_id), user_id, at)).map((line) => ({
            currency: line.currency,
            amount: line.amountMinor,
          }));
    sendJson(response, 200, { user_id, balances });
  });

  router.get('/v1/wallet/:user_id/transactions', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const query = validate(HistoryQuery, request.query, 'query');
    await requireUser(shards, user_id);
    const rows = await historyOf(poolOf(user_id), {
      userId: user_id,
      currency: query.currency,
      limit: query.limit + 1,
      beforeEntryId: query.cursor === undefined ? undefined : BigInt(query.cursor),
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
    });
    const page = rows.slice(0, query.limit);
    sendJson(response, 200, {
      entries: page.map((entry) => ({
        entry_id: entry.entryId.toString(),
        transfer_id: entry.transferId,
        currency: entry.currency,
        amount: entry.amountMinor,
        balance_after: entry.balanceAfterMinor,
        kind: entry.kind,
        created_at: entry.postedAt,
        // The transfer's id is its workflow's id too: the Web UI finds it under that.
        transfer: movementPathOf(entry),
        workflow_id: entry.payIn?.workflowId ?? entry.transferId,
        ...(entry.undoesEntryId !== null ? { undoes_entry_id: entry.undoesEntryId.toString() } : {}),
        ...(entry.conversion !== null ? { conversion: conversionJson(entry.conversion) } : {}),
        ...(entry.payIn !== null
          ? { pay_in: { trace_number: entry.payIn.traceNumber, originator_name: entry.payIn.originatorName } }
          : {}),
      })),
      next_cursor: rows.length > query.limit ? page[page.length - 1]!.entryId.toString() : null,
    });
  });

  return router;
}
