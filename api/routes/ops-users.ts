import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import type { TransferLimits } from '../../domain/transfer-policy';
import type { TransferTimings } from '../../workflows/activity-options';
import { findUser, closeWallet, setFrozen } from '../../ledger/users';
import { rulesOf, setRules, type WalletRules } from '../../ledger/wallet-rules';
import { principalOf, requireOps } from '../auth';
import { requireSupportedCurrencies } from '../currencies';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { requireUser } from '../require-user';
import { OpsReasonBody, OptionalOpsReasonBody, UserCurrencyParams, UserIdParams, WalletLimitsBody } from '../schemas';
import { validate } from '../validate';

/** Ops actions on a user's wallet: freeze, close, limits. Each is audited with the operator, in its own transaction. */
export function opsUserRoutes(
  shards: ShardSet,
  limits: TransferLimits,
  currencies: ReadonlySet<string>,
  timings: TransferTimings,
): Router {
  const router = Router();
  freezeRoutes(router, shards);
  closeRoute(router, shards, timings);
  limitsRoutes(router, shards, limits, currencies);
  return router;
}

/** A frozen user's wallets refuse debits and credits until they are unfrozen. */
function freezeRoutes(router: Router, shards: ShardSet): void {
  const shardOf = (userId: string) => shards.shardOf(userId);
  for (const action of ['freeze', 'unfreeze'] as const) {
    router.post(`/v1/ops/users/:user_id/${action}`, async (request, response) => {
      requireOps(request);
      const { user_id } = validate(UserIdParams, request.params, 'path');
      const { reason } = validate(OptionalOpsReasonBody, request.body ?? {}, 'body');
      const change = {
        userId: user_id,
        frozen: action === 'freeze',
        operator: principalOf(request).userId,
        reason: reason ?? null,
      };
      if (!(await shards.withTransaction(shardOf(user_id), (client) => setFrozen(client, change)))) {
        throw new ApiError('user_not_found', `user ${user_id} does not exist`);
      }
      sendJson(response, 200, { user_id, frozen: change.frozen });
    });
  }
}

/**
 * How long after completing a transfer into or out of a wallet closing it is refused: the
 * reversal window, plus one attempt of the leg that finishes the record (the window starts when
 * the record is final; on the recipient's shard only the earlier credit is seen).
 */
function closeWindowMs(timings: TransferTimings): number {
  const windowMs = timings.reversalWindowMs ?? 0;
  return windowMs > 0 ? windowMs + timings.activityTimeoutMs : 0;
}

function closeRoute(router: Router, shards: ShardSet, timings: TransferTimings): void {
  // Closing takes a wallet out of use for good: only at zero balance in every currency and once
  // no money can move into or out of it (no transfer of its own in flight, no reversal window
  // open); credits to it fail afterwards (wallet_closed) and a transfer's debit is refunded.
  router.post('/v1/ops/users/:user_id/close', async (request, response) => {
    requireOps(request);
    const { user_id } = validate(UserIdParams, request.params, 'path');
    const { reason } = validate(OpsReasonBody, request.body ?? {}, 'body');
    const closed = await closeWallet(shards.pool(shards.shardOf(user_id)), {
      userId: user_id,
      operator: principalOf(request).userId,
      reason,
      reversalWindowMs: closeWindowMs(timings),
    });
    if (closed.outcome === 'unknown_user') throw new ApiError('user_not_found', `user ${user_id} does not exist`);
    if (closed.outcome === 'transfers_in_flight')
      throw new ApiError(
        'transfers_in_flight',
        'the user has transfers still pending or held; close the wallet once they are final',
      );
    if (closed.outcome === 'reversal_window_open') {
      const openUntil = closed.openUntil.toISOString();
      throw new ApiError(
        'reversal_window_open',
        `a transfer into or out of this wallet can still be reversed until ${openUntil}; close it after that`,
        { open_until: openUntil },
        Math.max(1, Math.ceil((closed.openUntil.getTime() - Date.now()) / 1000)),
      );
    }
    if (closed.outcome !== 'closed')
      throw new ApiError('balance_not_zero', 'a wallet can only be closed when every balance is zero');
    sendJson(response, 200, { user_id, closed_at: closed.closedAt.toISOString() });
  });
}

/** A wallet's own floor and daily outgoing maximum in one currency, beside the default. */
function limitsRoutes(router: Router, shards: ShardSet, limits: TransferLimits, currencies: ReadonlySet<string>): void {
  const shardOf = (userId: string) => shards.shardOf(userId);
  router.get('/v1/ops/users/:user_id/limits/:currency', async (request, response) => {
    requireOps(request);
    const { user_id, currency } = validate(UserCurrencyParams, request.params, 'path');
    await requireUser(shards, user_id);
    sendJson(response, 200, limitsJson(await rulesOf(shards.pool(shardOf(user_id)), user_id, currency), limits));
  });

  router.put('/v1/ops/users/:user_id/limits/:currency', async (request, response) => {
    requireOps(request);
    const { user_id, currency } = validate(UserCurrencyParams, request.params, 'path');
    const body = validate(WalletLimitsBody, request.body ?? {}, 'body');
    requireSupportedCurrencies(currencies, currency);
    if (!(await findUser(shards.pool(shardOf(user_id)), user_id)))
      throw new ApiError('user_not_found', `user ${user_id} does not exist`);
    const rules = await shards
      .withTransaction(shardOf(user_id), (client) =>
        setRules(client, {
          userId: user_id,
          currency,
          operator: principalOf(request).userId,
          reason: body.reason,
          ...(body.min_balance !== undefined ? { minBalanceMinor: BigInt(body.min_balance) } : {}),
          ...(body.daily_outgoing_max !== undefined
            ? { dailyOutgoingMaxMinor: body.daily_outgoing_max === null ? null : BigInt(body.daily_outgoing_max) }
            : {}),
        }),
      )
      .catch((error: unknown) => {
        if (isFloorViolation(error))
          throw new ApiError(
            'floor_above_balance',
            'the wallet is overdrawn below that floor; set a floor at or below its balance',
          );
        throw error;
      });
    sendJson(response, 200, limitsJson(rules, limits));
  });
}

/** Raising the floor of an overdrawn wallet above its balance: the database's floor rule refuses it. */
function isFloorViolation(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23514' && constraint === 'accounts_customer_floor';
}

function limitsJson(rules: WalletRules, limits: TransferLimits) {
  return {
    user_id: rules.userId,
    currency: rules.currency,
    min_balance: rules.minBalanceMinor,
    daily_outgoing_max: rules.dailyOutgoingMaxMinor,
    daily_outgoing_default: limits.dailyOutgoingMaxMinor,
  };
}
