import { Router } from 'express';
import type { Client } from '@temporalio/client';
import {
  allTransfersQuery,
  listTransfers,
  stuckTransfersQuery,
  transfersInStatusQuery,
  type TransferSummary,
} from '../../temporal-client/transfer-visibility';
import { requireOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { pageCursors } from '../page-cursor';
import { OpsTransfersQuery } from '../schemas';
import { validate } from '../validate';

export interface OpsTransferListDependencies {
  client: Client;
  /** Signs page cursors (api/page-cursor.ts). */
  authSecret: string;
  /** A running transfer still PENDING this long after it started is stuck. */
  stuckAfterMs: number;
}

/**
 * `GET /v1/ops/transfers?status=...` (the review queue is status=PENDING_REVIEW) and
 * `?stuck=true`, read from Temporal visibility: the same filters ops use in the Web UI,
 * in Temporal's order (running first, then the most recently closed), paged with an opaque cursor.
 */
export function opsTransferListRoutes(deps: OpsTransferListDependencies): Router {
  const router = Router();
  const cursors = pageCursors(deps.authSecret);

  router.get('/v1/ops/transfers', async (request, response) => {
    requireOps(request);
    const query = validate(OpsTransfersQuery, request.query, 'query');
    const listing = query.stuck === true ? 'stuck' : query.status !== undefined ? `status:${query.status}` : 'all';
    const pageToken = query.cursor === undefined ? undefined : cursors.open(listing, query.cursor);
    if (query.cursor !== undefined && pageToken === undefined) {
      const problem = 'cursor must be a next_cursor value from a previous page of the same listing';
      throw new ApiError('invalid_request', `invalid query: cursor: ${problem}`, [{ field: 'cursor', problem }]);
    }
    const visibilityQuery =
      query.stuck === true
        ? stuckTransfersQuery(Date.now(), deps.stuckAfterMs)
        : query.status !== undefined
          ? transfersInStatusQuery(query.status)
          : allTransfersQuery();
    const page = await listTransfers(deps.client, {
      query: visibilityQuery,
      pageSize: query.limit,
      ...(pageToken ? { pageToken } : {}),
    });
    sendJson(response, 200, {
      transfers: page.transfers.map(summaryJson),
      next_cursor: page.nextPageToken === null ? null : cursors.seal(listing, page.nextPageToken),
    });
  });

  return router;
}

function summaryJson(transfer: TransferSummary) {
  return {
    transfer_id: transfer.transferId,
    status: transfer.status,
    from_user: transfer.fromUser,
    to_user: transfer.toUser,
    amount: transfer.amountMinor,
    currency: transfer.currency,
    started_at: transfer.startedAt.toISOString(),
  };
}
