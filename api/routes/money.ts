import { Router, type Request, type Response } from 'express';
import type { TransferRecord } from '../../ledger/transfers';
import { principalOf, requireOps, requireSelfOrOps } from '../auth';
import type { WaitSlots } from '../caller-limits';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import type { Metrics } from '../metrics';
import { acceptedJson, legsJson, transferJson } from '../presenters';
import { MoneyMovementBody, TransferBody, TransferIdParams, UserIdParams, WaitQuery } from '../schemas';
import type { SubmitTransfer, TransferService } from '../transfer-service';
import { validate } from '../validate';

/** Deposits, withdrawals and peer-to-peer transfers: every one of them is a transfer workflow. */
export function moneyRoutes(transfers: TransferService, metrics: Metrics, waitSlots: WaitSlots): Router {
  const router = Router();
  const { waitIfAllowed, submitAndAnswer } = transferAnswers(transfers, metrics, waitSlots);

  router.post('/v1/wallet/transfers', async (request, response) => {
    const body = validate(TransferBody, request.body, 'body');
    requireSelfOrOps(request, body.from_user_id);
    await submitAndAnswer(request, response, {
      kind: 'transfer',
      fromUserId: body.from_user_id,
      toUserId: body.to_user_id,
      amountMinor: BigInt(body.amount),
      currency: body.currency,
      note: body.note ?? null,
      idempotencyKey: body.idempotency_key,
      opsOperator: opsOperatorOf(request),
      ...(body.target_currency ? { target: { currency: body.target_currency, quoteId: body.quote_id ?? null } } : {}),
    });
  });

  // Deposits (ops only: the pay-in stand-in) bring money in from settlement; withdrawals (the
  // owner or ops) send it out. Same body, opposite direction.
  const movements = [
    { path: 'deposits', kind: 'deposit', authorize: (request: Request) => requireOps(request) },
    {
      path: 'withdrawals',
      kind: 'withdrawal',
      authorize: (request: Request, userId: string) => requireSelfOrOps(request, userId),
    },
  ] as const;
  for (const movement of movements) {
    router.post(`/v1/wallet/:user_id/${movement.path}`, async (request, response) => {
      const { user_id } = validate(UserIdParams, request.params, 'path');
      movement.authorize(request, user_id);
      const body = validate(MoneyMovementBody, request.body, 'body');
      await submitAndAnswer(request, response, {
        kind: movement.kind,
        fromUserId: movement.kind === 'withdrawal' ? user_id : null,
        toUserId: movement.kind === 'deposit' ? user_id : null,
        amountMinor: BigInt(body.amount),
        currency: body.currency,
        note: null,
        idempotencyKey: body.idempotency_key,
        opsOperator: opsOperatorOf(request),
      });
    });
  }

  router.get('/v1/wallet/transfers/:transfer_id', async (request, response) => {
    const { transfer_id } = validate(TransferIdParams, request.params, 'path');
    const { wait } = validate(WaitQuery, request.query, 'query');
    response.locals.transferId = transfer_id;
    const record = await transfers.find(transfer_id);
    const principal = principalOf(request);
    const isParty =
      record !== undefined && (principal.userId === record.fromUserId || principal.userId === record.toUserId);
    // Non-parties get the same 404 as for a missing id, so ids cannot be probed for existence.
    if (!record || (principal.role !== 'ops' && !isParty))
      throw new ApiError('transfer_not_found', `no transfer ${transfer_id}`);
    const current = wait === undefined ? record : await waitIfAllowed(request, response, record, wait);
    sendJson(response, 200, { ...transferJson(current), legs: legsJson(current, await transfers.legsOf(current)) });
  });

  return router;
}

/** How the money routes answer: at once with 202, or after waiting for the transfer to be final. */
function transferAnswers(transfers: TransferService, metrics: Metrics, waitSlots: WaitSlots) {
  /** `?wait=N`: until the transfer is final, N seconds pass or the client hangs up (WaitSlots.waitOrNow). */
  function waitIfAllowed(request: Request, response: Response, record: TransferRecord, waitS: number) {
    return waitSlots.waitOrNow(request, response, record, (gone) => transfers.waitForFinal(record, waitS, gone));
  }

  async function submitAndAnswer(request: Request, response: Response, submission: SubmitTransfer): Promise<void> {
    const { wait } = validate(WaitQuery, request.query, 'query');
    const { record, replayed, start } = await transfers.submit(submission, wait);
    response.locals.transferId = record.transferId;
    metrics.transfersSubmitted.inc({ kind: submission.kind, replayed: String(replayed) });
    metrics.workflowStarts.inc({ outcome: start });
    if (wait === undefined) return sendJson(response, 202, acceptedJson(record));
    sendJson(response, 200, transferJson(await waitIfAllowed(request, response, record, wait)));
  }

  return { waitIfAllowed, submitAndAnswer };
}

/** Requests made with an ops token are audited under the token's subject. */
function opsOperatorOf(request: Request): string | null {
  const principal = principalOf(request);
  return principal.role === 'ops' ? principal.userId : null;
}
