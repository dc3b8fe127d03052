import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { reference_shard } from '../../domain/shard-routing';
import { latestPayinFiles, payinOf } from '../../ledger/payins';
import { virtualAccountOf, walletOpenness } from '../../ledger/virtual-accounts';
import { principalOf, requireOps, requireSelfOrOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { PayinFilesQuery, PayinParams, UserIdParams } from '../schemas';
import { validate } from '../validate';

/** Our bank, as a wallet's funding instructions name it (BANK_ROUTING, BANK_NAME). */
export interface FundingBank {
  routingNumber: string;
  name: string;
}

/**
 * Money in: a wallet's funding instructions (its virtual account at our bank, allocated on the
 * first read) for its owner and ops, and for ops the pay-in poller's record of the bank's files.
 */
export function payinRoutes(shards: ShardSet, bank: FundingBank): Router {
  const router = Router();

  router.get('/v1/wallet/:user_id/funding-instructions', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    requireSelfOrOps(request, user_id);
    const openness = await walletOpenness(shards.pool(shards.shardOf(user_id)), user_id);
    if (openness === 'unknown') throw new ApiError('user_not_found', `user ${user_id} does not exist`);
    if (openness === 'closed')
      throw new ApiError('wallet_closed', `the wallet of ${user_id} is closed: credits to it are returned (R02)`);
    const accountNumber = await virtualAccountOf(shards.pool(reference_shard), user_id);
    sendJson(response, 200, {
      user_id,
      rail: 'ach',
      currency: 'USD',
      bank_name: bank.name,
      routing_number: bank.routingNumber,
      account_number: accountNumber,
      account_type: 'checking',
    });
  });

  // A pay-in as the wallet decided it. Its owner and ops see it; anyone else (and a trace number
  // that named no wallet, which only ops may look at) gets 404, so trace numbers reveal nothing.
  router.get('/v1/wallet/payins/:trace_number', async (request, response) => {
    const { trace_number } = validate(PayinParams, request.params, 'path');
    const payin = await payinOf(shards.pool(reference_shard), trace_number);
    const principal = principalOf(request);
    if (!payin || (principal.role !== 'ops' && payin.userId !== principal.userId))
      throw new ApiError('payin_not_found', `no pay-in ${trace_number} for this caller`);
    sendJson(response, 200, {
      trace_number,
      user_id: payin.userId,
      amount: payin.amountMinor,
      currency: payin.currency,
      originator_name: payin.originatorName,
      status: payin.status,
      return_code: payin.returnCode,
      received_at: payin.receivedAt.toISOString(),
    });
  });

  router.get('/v1/ops/payins/files', async (request, response) => {
    requireOps(request);
    const query = validate(PayinFilesQuery, request.query, 'query');
    const files = await latestPayinFiles(shards.pool(reference_shard), {
      refusedOnly: query.outcome === 'refused',
      limit: query.limit,
    });
    sendJson(response, 200, {
      files: files.map((file) => ({
        cursor: file.cursor.toString(),
        file_name: file.fileName,
        outcome: file.outcome,
        reason: file.reason,
        credits: file.credits,
        returned: file.returned,
        duplicates: file.duplicates,
        conflicts: file.conflicts,
        processed_at: file.processedAt.toISOString(),
      })),
    });
  });

  return router;
}
