import { Router, type Request } from 'express';
import type { ShardSet } from '../../db/shards';
import { bank_accounts_per_user_max, checkAchDetails, type RailDetails } from '../../domain/bank-accounts';
import { listBankAccounts, registerBankAccount, removeBankAccount } from '../../ledger/bank-accounts';
import { principalOf, requireSelfOrOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { bankAccountJson } from '../presenters';
import { requireUser } from '../require-user';
import { BankAccountBody, BankAccountParams, UserIdParams } from '../schemas';
import { validate } from '../validate';

/**
 * A wallet's external bank accounts (ACH today): register, list, remove. The owner or ops act;
 * an operator's change is audited in its own transaction. Answers show the account number only
 * as its last 4 digits.
 */
export function bankAccountRoutes(shards: ShardSet): Router {
  const router = Router();
  const shardOf = (userId: string) => shards.shardOf(userId);
  const operatorOf = (request: Request) => {
    const principal = principalOf(request);
    return principal.role === 'ops' ? principal.userId : null;
  };

  // Registering an account the user already has live answers that one (200, unchanged):
  // an account is its rail's identity (routing and account number), whatever the name says.
  router.post('/v1/wallet/:user_id/bank-accounts', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const body = validate(BankAccountBody, request.body, 'body');
    const details: RailDetails = {
      rail: 'ach',
      ach: { routingNumber: body.routing_number, accountNumber: body.account_number, accountType: body.account_type },
    };
    const checked = checkAchDetails(details.ach);
    if (!checked.ok) throw new ApiError(checked.refusal, checked.why);
    const registered = await shards.withTransaction(shardOf(user_id), (client) =>
      registerBankAccount(client, {
        userId: user_id,
        holderName: body.holder_name,
        details,
        operator: operatorOf(request),
      }),
    );
    if (registered.outcome === 'unknown_user') throw new ApiError('user_not_found', `user ${user_id} does not exist`);
    if (registered.outcome === 'limit_reached')
      throw new ApiError(
        'bank_account_limit_reached',
        `a wallet has at most ${bank_accounts_per_user_max} bank accounts; remove one first`,
      );
    sendJson(response, registered.outcome === 'created' ? 201 : 200, bankAccountJson(registered.account));
  });

  router.get('/v1/wallet/:user_id/bank-accounts', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    await requireUser(shards, user_id);
    const accounts = await listBankAccounts(shards.pool(shardOf(user_id)), user_id);
    sendJson(response, 200, { bank_accounts: accounts.map(bankAccountJson) });
  });

  router.delete('/v1/wallet/:user_id/bank-accounts/:bank_account_id', async (request, response) => {
    const { user_id, bank_account_id } = validate(BankAccountParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const removed = await shards.withTransaction(shardOf(user_id), (client) =>
      removeBankAccount(client, { userId: user_id, bankAccountId: bank_account_id, operator: operatorOf(request) }),
    );
    if (!removed)
      throw new ApiError('bank_account_not_found', `user ${user_id} has no bank account ${bank_account_id}`);
    sendJson(response, 200, bankAccountJson(removed));
  });

  return router;
}
