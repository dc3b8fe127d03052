import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ShardBusyError } from '../db/shards';

/**
 * The complete list of error codes the API answers with; the README documents each one.
 * Every error body has the same shape: {"error": {"code", "message", "details"?}}.
 */
export const error_codes = {
  invalid_request: 400,
  malformed_json: 400,
  invalid_last_event_id: 400,
  unauthenticated: 401,
  forbidden: 403,
  user_not_found: 404,
  transfer_not_found: 404,
  batch_not_found: 404,
  route_not_found: 404,
  reconciliation_not_run: 404,
  settlement_not_reconciled: 404,
  quote_not_found: 404,
  bank_account_not_found: 404,
  payin_not_found: 404,
  payout_not_found: 404,
  user_exists: 409,
  transfer_not_reversible: 409,
  reversal_window_closed: 409,
  transfer_not_in_review: 409,
  transfer_not_needing_attention: 409,
  second_approver_required: 409,
  approver_not_independent: 409,
  transfers_in_flight: 409,
  reversal_window_open: 409,
  floor_above_balance: 409,
  balance_not_zero: 409,
  quote_already_used: 409,
  bank_account_limit_reached: 409,
  wallet_closed: 409,
  payout_not_cancelable: 409,
  payout_not_in_review: 409,
  // Webhooks (README "Webhooks").
  webhook_endpoint_not_found: 404,
  webhook_endpoint_disabled: 409,
  webhook_url_invalid: 422,
  webhook_url_refused: 422,
  unknown_event_type: 422,
  replay_out_of_bounds: 422,
  body_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  same_user: 422,
  unsupported_currency: 422,
  limit_exceeded: 422,
  reversal_refused: 422,
  rate_unavailable: 422,
  amount_too_small: 422,
  quote_expired: 422,
  quote_mismatch: 422,
  invalid_routing_number: 422,
  invalid_account_number: 422,
  rate_limited: 429,
  service_unavailable: 503,
  overloaded: 503,
} as const;

export type ErrorCode = keyof typeof error_codes;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Sent as Retry-After: when a retry makes sense, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.status = error_codes[code];
  }
}

export const notFoundRoute: RequestHandler = (request, _response, next) => {
  next(new ApiError('route_not_found', `no route for ${request.method} ${request.path}`));
};

/** Maps every error to the documented shape; anything unexpected is logged and becomes a 503, never a stack trace. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const known = toApiError(error);
    if (!known) {
      logger.error({ err: error, method: request.method, path: request.path }, 'request failed');
    }
    const apiError =
      known ??
      new ApiError(
        'service_unavailable',
        'the service could not complete the request; retry with the same idempotency key',
      );
    if (apiError.retryAfterS !== undefined) response.set('Retry-After', String(apiError.retryAfterS));
    response.status(apiError.status).json({
      error: {
        code: apiError.code,
        message: apiError.message,
        ...(apiError.details ? { details: apiError.details } : {}),
      },
    });
  };
}

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ShardBusyError) {
    // A burst larger than the shard's connections and queue: shed, and say when to come back.
    return new ApiError(
      'overloaded',
      'a shard is busy; retry after Retry-After seconds (with the same idempotency key for a transfer)',
      undefined,
      1,
    );
  }
  const bodyParserError = error as { type?: string; status?: number };
  switch (bodyParserError.type) {
    case 'entity.parse.failed':
      return new ApiError('malformed_json', 'request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError('body_too_large', 'request body is too large');
    case 'encoding.unsupported':
      return new ApiError('unsupported_media_type', 'request body must be UTF-8 JSON');
    case 'request.aborted':
    case 'stream.not.readable':
    case 'request.size.invalid':
      return new ApiError('invalid_request', 'request body could not be read');
  }
  if (typeof bodyParserError.status === 'number' && bodyParserError.status >= 400 && bodyParserError.status < 500) {
    return new ApiError('invalid_request', 'request could not be read');
  }
  return undefined;
}
