import type { ActionTokenRefusal } from '../domain/operators';
import type { TypedOpsRequest } from './messages';

/**
 * The shapes of operators' requests as they arrive (pure checks, no state): the signed request
 * of today, and the typed one that histories recorded before action tokens replay.
 */

/** Bounds on what an operator's request may carry. */
const operator_length_max = 128;
const reason_length_max = 500;
/** The API's bearer tokens are bounded alike (api/auth.ts); an action token is far shorter. */
const token_pattern = /^[A-Za-z0-9_.-]{1,4096}$/;

export interface Problem {
  code:
    | 'invalid_request'
    | 'transfer_not_in_review'
    | 'second_approver_required'
    | 'approver_not_independent'
    | 'transfer_not_reversible'
    | 'reversal_window_closed'
    | 'transfer_not_needing_attention'
    | ActionTokenRefusal;
  message: string;
}

/** A request whose token is still to be verified. */
export interface SignedRequest {
  token: string;
  reason: string;
  allowNegative: boolean | undefined;
}

const storable_message = 'without NUL or unpaired surrogates';

/** The token, the reason and the override of a request, or what is wrong with its shape. */
export function signedRequestOf(payload: unknown): SignedRequest | { problem: Problem } {
  if (typeof payload !== 'object' || payload === null)
    return { problem: { code: 'invalid_request', message: 'send {"token": "...", "reason": "..."}' } };
  const { token, reason, allow_negative } = payload as Record<string, unknown>;
  if (token === undefined)
    return {
      problem: {
        code: 'action_token_required',
        message:
          'send an action token (npm run token -- --ops NAME --approve TRANSFER_ID, or POST /v1/ops/transfers/{id}/action-tokens): a typed operator is no proof of who sent the request',
      },
    };
  if (typeof token !== 'string' || !token_pattern.test(token))
    return { problem: { code: 'action_token_invalid', message: 'the token is not a compact JWT' } };
  const reasonProblem = textProblem('reason', reason, reason_length_max);
  if (reasonProblem) return { problem: reasonProblem };
  if (allow_negative !== undefined && typeof allow_negative !== 'boolean')
    return { problem: { code: 'invalid_request', message: 'allow_negative must be true or false' } };
  return { token, reason: (reason as string).trim(), allowNegative: allow_negative };
}

/** A request's reason as the audit of its refusal records it, when it has one. */
export function reasonOf(payload: unknown): string | null {
  const reason = typeof payload === 'object' && payload !== null ? (payload as { reason?: unknown }).reason : null;
  return typeof reason === 'string' ? reason : null;
}

/** The typed request of a history recorded before action tokens, checked as that code checked it. */
export function typedRequestProblem(request: unknown): Problem | null {
  if (typeof request !== 'object' || request === null)
    return { code: 'invalid_request', message: 'send {"operator": "...", "reason": "..."}' };
  const { operator, reason } = request as Partial<Record<keyof TypedOpsRequest, unknown>>;
  return textProblem('operator', operator, operator_length_max) ?? textProblem('reason', reason, reason_length_max);
}

function textProblem(field: string, value: unknown, lengthMax: number): Problem | null {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > lengthMax || !isStorable(value))
    return {
      code: 'invalid_request',
      message: `${field} must be a non-empty string of at most ${lengthMax} characters, ${storable_message}`,
    };
  return null;
}

/** PostgreSQL text cannot hold NUL or unpaired UTF-16 surrogates: such a request would be retried forever. */
function isStorable(value: string): boolean {
  return !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/** How histories recorded before action tokens named an operator: trimmed and lower-cased. */
export function typedOperatorOf(operator: string): string {
  return operator.trim().toLowerCase();
}
