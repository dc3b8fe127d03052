import { Router, type Request, type Response } from 'express';
import type { PayoutRecord } from '../../ledger/payouts';
import { principalOf, requireOps, requireSelfOrOps } from '../auth';
import type { WaitSlots } from '../caller-limits';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import type { PayoutService } from '../payout-service';
import { OpsPayoutsQuery, PayoutBody, PayoutIdParams, PayoutWaitQuery } from '../payout-schemas';
import { NoQuery, OpsReasonBody, UserIdParams } from '../schemas';
import { validate } from '../validate';

/** Money out to a bank account (docs/rails.md): start a payout, read it, and the ops cancel and stuck list. */
export function payoutRoutes(payouts: PayoutService, waitSlots: WaitSlots, stuckAfterMs: number): Router {
  const router = Router();

  router.post('/v1/wallet/:user_id/payouts', async (request, response) => {
    const { user_id } = validate(UserIdParams, request.params, 'path');
    validate(NoQuery, request.query, 'query');
    requireSelfOrOps(request, user_id);
    const body = validate(PayoutBody, request.body, 'body');
    const principal = principalOf(request);
    const { record } = await payouts.submit({
      userId: user_id,
      bankAccountId: body.bank_account_id,
      amountMinor: BigInt(body.amount),
      currency: body.currency,
      idempotencyKey: body.idempotency_key,
      opsOperator: principal.role === 'ops' ? principal.userId : null,
    });
    response.locals.transferId = record.payoutId;
    // As a transfer's retry is: the same 202 with the same id.
    sendJson(response, 202, payoutJson(record));
  });

  router.get('/v1/wallet/payouts/:payout_id', async (request, response) => {
    const { payout_id } = validate(PayoutIdParams, request.params, 'path');
    const { wait } = validate(PayoutWaitQuery, request.query, 'query');
    const record = await readable(payouts, request, payout_id);
    const current =
      wait === undefined
        ? record
        : await waitSlots.waitOrNow(request, response, record, (gone) =>
            payouts.waitForSettledOrFinal(record, wait, gone),
          );
    sendJson(response, 200, payoutJson(current));
  });

  for (const action of ['cancel', 'approve', 'reject'] as const) {
    router.post(`/v1/ops/payouts/:payout_id/${action}`, async (request, response) => {
      requireOps(request);
      const { payout_id } = validate(PayoutIdParams, request.params, 'path');
      const body = validate(OpsReasonBody, request.body ?? {}, 'body');
      const record = await payouts.find(payout_id);
      if (!record) throw new ApiError('payout_not_found', `no payout ${payout_id}`);
      response.locals.transferId = payout_id;
      const operator = principalOf(request).userId;
      sendJson(response, 200, payoutJson(await payouts.opsAction(record, action, operator, body.reason)));
    });
  }

  router.get('/v1/ops/payouts', async (request, response) => {
    requireOps(request);
    const query = validate(OpsPayoutsQuery, request.query, 'query');
    const stuck = await payouts.stuck(stuckAfterMs, query.limit);
    sendJson(response, 200, { payouts: stuck.map(payoutJson) });
  });

  return router;
}

/** The owner or ops; others get the same 404 as for a missing id, so ids cannot be probed for existence. */
async function readable(payouts: PayoutService, request: Request, payoutId: string): Promise<PayoutRecord> {
  const record = await payouts.find(payoutId);
  const principal = principalOf(request);
  if (!record || (principal.role !== 'ops' && principal.userId !== record.userId))
    throw new ApiError('payout_not_found', `no payout ${payoutId}`);
  request.res!.locals.transferId = payoutId;
  return record;
}

function payoutJson(record: PayoutRecord) {
  return {
    payout_id: record.payoutId,
    user_id: record.userId,
    bank_account_id: record.bankAccountId,
    amount: record.amountMinor,
    currency: record.currency,
    status: record.status,
    failure_reason: record.failureReason,
    return_code: record.returnCode,
    trace_number: record.traceNumber,
    created_at: record.createdAt.toISOString(),
    status_changed_at: record.statusChangedAt.toISOString(),
    settled_at: record.settledAt?.toISOString() ?? null,
    return_window_ends_at: record.returnWindowEndsAt?.toISOString() ?? null,
  };
}
