import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { Router, type Request } from 'express';
import { issueActionToken, type ActionTokenKeys } from '../../domain/action-tokens';
import type { TransferOpsAction } from '../../domain/operators';
import type { TransferRecord } from '../../ledger/transfers';
import {
  approveUpdate,
  rejectUpdate,
  retryUpdate,
  reverseUpdate,
  type OpsRequest,
  type ReverseRequest,
} from '../../workflows/messages';
import { principalOf, requireOps } from '../auth';
import { ApiError, error_codes, type ErrorCode } from '../errors';
import { sendJson } from '../json';
import { transferJson } from '../presenters';
import { ActionTokenBody, OpsReasonBody, ReverseBody, TransferIdParams } from '../schemas';
import type { TransferService } from '../transfer-service';
import { validate } from '../validate';

/** An ops request waits this long for the workflow to take it; past it the caller retries (it is idempotent). */
const ops_update_timeout_ms = 15_000;

/**
 * The operators' actions on one transfer, over HTTP. Each is a Temporal update of the transfer's
 * workflow (the same handlers the Web UI's and the CLI's signals reach), so the caller learns at
 * once whether it was accepted, and the outcome. The operator is the ops token's subject, and
 * each update carries an action token for it, signed here: the workflow trusts nothing else.
 */
export function opsTransferRoutes(transfers: TransferService, client: Client, keys: ActionTokenKeys): Router {
  const router = Router();
  reverseRoute(router, transfers, client, keys);
  reviewRoutes(router, transfers, client, keys);
  actionTokenRoute(router, transfers, keys);
  retryRoute(router, transfers, client, keys);
  return router;
}

/**
 * An action token for a signal (the Web UI's "Send a Signal", `temporal workflow signal`): bound
 * to the ops caller, the action and the transfer, valid for ACTION_TOKEN_TTL.
 */
function actionTokenRoute(router: Router, transfers: TransferService, keys: ActionTokenKeys): void {
  router.post('/v1/ops/transfers/:transfer_id/action-tokens', async (request, response) => {
    const record = await opsTarget(transfers, request);
    const body = validate(ActionTokenBody, request.body ?? {}, 'body');
    const issued = await issueActionToken(keys, {
      operator: principalOf(request).userId,
      action: body.action,
      transferId: record.transferId,
      allowNegative: body.allow_negative === true,
    });
    sendJson(response, 201, {
      token: issued.token,
      operator: issued.operator,
      action: body.action,
      transfer_id: record.transferId,
      allow_negative: body.allow_negative === true,
      expires_at: issued.expiresAt.toISOString(),
    });
  });
}

/** The token an update carries: the ops caller's proof for this action on this transfer. */
async function tokenFor(
  keys: ActionTokenKeys,
  request: Request,
  action: TransferOpsAction,
  record: TransferRecord,
  allowNegative = false,
): Promise<string> {
  const grant = { operator: principalOf(request).userId, action, transferId: record.transferId, allowNegative };
  return (await issueActionToken(keys, grant)).token;
}

/** The transfer an ops request names, for an ops caller only. */
async function opsTarget(transfers: TransferService, request: Request): Promise<TransferRecord> {
  requireOps(request);
  const { transfer_id } = validate(TransferIdParams, request.params, 'path');
  request.res!.locals.transferId = transfer_id;
  const record = await transfers.find(transfer_id);
  if (!record) throw new ApiError('transfer_not_found', `no transfer ${transfer_id}`);
  return record;
}

/** Reversing a COMPLETED transfer within its window moves the money back. */
function reverseRoute(router: Router, transfers: TransferService, client: Client, keys: ActionTokenKeys): void {
  router.post('/v1/ops/transfers/:transfer_id/reverse', async (request, response) => {
    const record = await opsTarget(transfers, request);
    const body = validate(ReverseBody, request.body ?? {}, 'body');
    // A second reverse is a no-op: the transfer as it stands.
    if (record.status === 'REVERSED') return sendJson(response, 200, transferJson(record));
    if (record.status !== 'COMPLETED')
      throw new ApiError(
        'transfer_not_reversible',
        `only a COMPLETED transfer can be reversed; this one is ${record.status}`,
      );
    const payload: ReverseRequest = {
      token: await tokenFor(keys, request, 'reverse', record, body.allow_negative === true),
      reason: body.reason,
      ...(body.allow_negative ? { allow_negative: true } : {}),
    };
    const answer = await sendUpdate(
      client,
      record,
      (handle) => handle.executeUpdate(reverseUpdate, { args: [payload] }),
      'reversal_window_closed',
    ).catch(async (error: unknown) => {
      // The workflow closed because a reversal that raced with this one finished it: a no-op.
      if (
        error instanceof ApiError &&
        error.code === 'reversal_window_closed' &&
        (await reread(transfers, record)).status === 'REVERSED'
      )
        return { outcome: 'already_reversed' as const };
      throw error;
    });
    if (answer.outcome === 'refused') {
      throw new ApiError(
        'reversal_refused',
        'the recipient cannot cover the reversal; nothing moved. Send "allow_negative": true to force it',
        { refusal: answer.refusal },
      );
    }
    if (answer.outcome === 'window_closed')
      throw new ApiError('reversal_window_closed', 'the reversal window of this transfer has closed');
    sendJson(response, 200, transferJson(await reread(transfers, record)));
  });
}

/** Approving or rejecting a transfer held for review. */
function reviewRoutes(router: Router, transfers: TransferService, client: Client, keys: ActionTokenKeys): void {
  for (const [decision, update] of [
    ['approve', approveUpdate],
    ['reject', rejectUpdate],
  ] as const) {
    router.post(`/v1/ops/transfers/:transfer_id/${decision}`, async (request, response) => {
      const record = await opsTarget(transfers, request);
      const body = validate(OpsReasonBody, request.body ?? {}, 'body');
      if (record.status !== 'PENDING_REVIEW')
        throw new ApiError('transfer_not_in_review', `the transfer is ${record.status}, not held for review`);
      const payload: OpsRequest = { token: await tokenFor(keys, request, decision, record), reason: body.reason };
      const answer = await sendUpdate(
        client,
        record,
        (handle) => handle.executeUpdate(update, { args: [payload] }),
        'transfer_not_in_review',
      );
      sendJson(response, 200, {
        ...transferJson(await reread(transfers, record)),
        review: { approvals: answer.approvals, approvals_required: answer.approvals_required },
      });
    });
  }
}

/**
 * Running a step again that had failed for good (the workflow is NEEDS_ATTENTION), once ops fixed
 * the cause. Answers when the step ran: `retry.status` is NEEDS_ATTENTION again if it failed again.
 */
function retryRoute(router: Router, transfers: TransferService, client: Client, keys: ActionTokenKeys): void {
  router.post('/v1/ops/transfers/:transfer_id/retry', async (request, response) => {
    const record = await opsTarget(transfers, request);
    const body = validate(OpsReasonBody, request.body ?? {}, 'body');
    const payload: OpsRequest = { token: await tokenFor(keys, request, 'retry', record, false), reason: body.reason };
    const answer = await sendUpdate(
      client,
      record,
      (handle) => handle.executeUpdate(retryUpdate, { args: [payload] }),
      'transfer_not_needing_attention',
    );
    sendJson(response, 200, { ...transferJson(await reread(transfers, record)), retry: answer });
  });
}

type Handle = ReturnType<Client['workflow']['getHandle']>;

/**
 * Runs an update on the transfer's workflow. A validator's refusal carries the API's error code
 * as its type; a workflow that is gone (its window closed, or it finished) answers `whenClosed`.
 */
const closed_messages: Partial<Record<ErrorCode, string>> = {
  reversal_window_closed: 'the reversal window of this transfer has closed',
  transfer_not_needing_attention: "the transfer's workflow has ended: it does not need attention",
};

async function sendUpdate<T>(
  client: Client,
  record: TransferRecord,
  send: (handle: Handle) => Promise<T>,
  whenClosed: ErrorCode,
): Promise<T> {
  const handle = client.workflow.getHandle(record.transferId);
  try {
    return await client.withDeadline(Date.now() + ops_update_timeout_ms, () => send(handle));
  } catch (error) {
    if (
      error instanceof WorkflowUpdateFailedError &&
      error.cause instanceof ApplicationFailure &&
      isErrorCode(error.cause.type)
    ) {
      throw new ApiError(error.cause.type, error.cause.message);
    }
    if (error instanceof WorkflowNotFoundError || isClosedWorkflowError(error)) {
      throw new ApiError(whenClosed, closed_messages[whenClosed] ?? 'the transfer is no longer held for review');
    }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new ApiError(
        'service_unavailable',
        'the transfer did not take the request in time; retry (the request is idempotent)',
        undefined,
        1,
      );
    }
    throw error;
  }
}

/** An update sent to a workflow that already completed. */
function isClosedWorkflowError(error: unknown): boolean {
  return /workflow execution already completed/i.test((error as Error | undefined)?.message ?? '');
}

function isErrorCode(type: string | undefined | null): type is ErrorCode {
  return typeof type === 'string' && type in error_codes;
}

async function reread(transfers: TransferService, record: TransferRecord): Promise<TransferRecord> {
  return (await transfers.find(record.transferId)) ?? record;
}
