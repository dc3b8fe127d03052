import { Router, type Request, type Response } from 'express';
import type { BatchItemRecord, BatchRecord } from '../../ledger/transfer-batches';
import { principalOf, requireSelfOrOps } from '../auth';
import type { WaitSlots } from '../caller-limits';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { BatchIdParams, BatchQuery, NoQuery, TransferBatchBody } from '../schemas';
import type { BatchState, TransferBatchService } from '../transfer-batch-service';
import { validate } from '../validate';

/** Batches of transfers from one payer (payroll): one workflow that starts and follows an ordinary transfer per item. */
export function transferBatchRoutes(batches: TransferBatchService, waitSlots: WaitSlots): Router {
  const router = Router();

  router.post('/v1/wallet/transfer-batches', async (request, response) => {
    validate(NoQuery, request.query, 'query');
    const body = validate(TransferBatchBody, request.body, 'body');
    // Authorized as a transfer from the payer is: the payer itself, or ops.
    requireSelfOrOps(request, body.from_user_id);
    const principal = principalOf(request);
    const { record } = await batches.submit({
      payerUserId: body.from_user_id,
      currency: body.items[0]!.currency,
      idempotencyKey: body.idempotency_key,
      items: body.items.map((item) => ({
        toUserId: item.to_user_id,
        amountMinor: BigInt(item.amount),
        note: item.note ?? null,
        idempotencyKey: item.idempotency_key,
      })),
      opsOperator: principal.role === 'ops' ? principal.userId : null,
    });
    // As a transfer's retry is: the same 202 with the same id.
    sendJson(response, 202, acceptedJson(record));
  });

  router.get('/v1/wallet/transfer-batches/:batch_id', async (request, response) => {
    const { batch_id } = validate(BatchIdParams, request.params, 'path');
    const query = validate(BatchQuery, request.query, 'query');
    const record = await batches.find(batch_id);
    const principal = principalOf(request);
    // Others get the same 404 as for a missing id, so ids cannot be probed for existence.
    if (!record || (principal.role !== 'ops' && principal.userId !== record.payerUserId))
      throw new ApiError('batch_not_found', `no batch ${batch_id}`);
    if (query.wait !== undefined) await waitIfAllowed(request, response, record, query.wait);
    const state = await batches.stateOf(record);
    const afterPosition = query.cursor === undefined ? -1 : Number(query.cursor);
    // One more than the page: whether there is a next page, without a count.
    const items = await batches.items(record, { afterPosition, limit: query.limit + 1 });
    const page = items.slice(0, query.limit);
    sendJson(response, 200, {
      ...batchJson(state),
      items: page.map(itemJson),
      next_cursor: items.length > query.limit ? String(page.at(-1)!.position) : null,
    });
  });

  /** `?wait=N` as on transfers: bounded per caller and process; past the bounds it answers at once. */
  async function waitIfAllowed(
    request: Request,
    response: Response,
    record: BatchRecord,
    waitS: number,
  ): Promise<void> {
    const release = waitSlots.tryAcquire(request);
    if (!release) return;
    const gone = new AbortController();
    const hangUp = () => gone.abort();
    response.once('close', hangUp);
    try {
      await batches.waitForFinal(record, waitS, gone.signal);
    } finally {
      response.off('close', hangUp);
      release();
    }
  }

  return router;
}

function acceptedJson(record: BatchRecord) {
  return {
    batch_id: record.batchId,
    status: record.status,
    item_count: record.itemCount,
    total_amount: record.totalMinor,
    currency: record.currency,
    created_at: record.createdAt.toISOString(),
  };
}

/** The batch is COMPLETED for its client once every item is final, whether or not its workflow has recorded it yet. */
function batchJson({ record, counts, final }: BatchState) {
  return {
    ...acceptedJson(record),
    status: final ? 'COMPLETED' : 'RUNNING',
    from_user_id: record.payerUserId,
    ...(record.completedAt ? { completed_at: record.completedAt.toISOString() } : {}),
    counts,
  };
}

function itemJson(item: BatchItemRecord) {
  return {
    position: item.position,
    idempotency_key: item.idempotencyKey,
    transfer_id: item.transferId,
    to_user_id: item.toUserId,
    amount: item.amountMinor,
    status: item.status,
    ...(item.failureReason !== null ? { failure_reason: item.failureReason } : {}),
  };
}
