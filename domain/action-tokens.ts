import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';
import { operatorIdentity, type ActionTokenCheck, type ActionTokenVerdict, type TransferOpsAction } from './operators';

/**
 * Action tokens: an operator's proof, carried in a signal's or an update's payload, that they
 * sent this action on this transfer. A short-lived HS256 JWT bound to the action, the transfer,
 * the operator (its normalized identity) and, for a reversal, whether it may overdraw the
 * recipient. Its own type and audience, and a key derived for this use only, keep it apart from
 * the API's bearer tokens: neither is accepted as the other. Not workflow code (crypto, clocks).
 */
const action_token_type = 'wallet-action+jwt';
const action_token_audience = 'wallet-ops-action';
/** A token a little ahead of the verifier's clock is accepted (its iat only; exp is exact). */
const clock_tolerance_s = 30;

export interface ActionTokenKeys {
  key: KeyObject;
  /** A token is issued for this long, and refused once it is older than this, whatever its exp says. */
  ttlS: number;
}

/** The key for action tokens, derived from the configured secret (ACTION_TOKEN_SECRET, else AUTH_SECRET). */
export function actionTokenKeys(secret: string, ttlS: number): ActionTokenKeys {
  const derived = createHmac('sha256', secret).update('wallet ops action tokens v1').digest();
  return { key: createSecretKey(derived), ttlS };
}

export interface ActionTokenGrant {
  operator: string;
  action: TransferOpsAction;
  transferId: string;
  allowNegative?: boolean;
}

/** Signs a token for one action on one transfer; the operator must be a valid identity (it is normalized). */
export async function issueActionToken(
  keys: ActionTokenKeys,
  grant: ActionTokenGrant,
): Promise<{ token: string; operator: string; expiresAt: Date }> {
  const identity = operatorIdentity(grant.operator);
  if (!identity.ok) throw new Error(`cannot issue an action token: ${identity.why}`);
  const issuedAtS = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    act: grant.action,
    tid: grant.transferId,
    ...(grant.allowNegative ? { neg: true } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: action_token_type })
    .setSubject(identity.operator)
    .setAudience(action_token_audience)
    .setJti(randomUUID())
    .setIssuedAt(issuedAtS)
    .setExpirationTime(issuedAtS + keys.ttlS)
    .sign(keys.key);
  return { token, operator: identity.operator, expiresAt: new Date((issuedAtS + keys.ttlS) * 1000) };
}

/**
 * Checks a token against what the workflow expects: signature, type and audience, expiry, the
 * maximum age, the action and the transfer; answers who sent it or why it is refused. Never
 * throws: the answer is recorded in the workflow's history, so a replay never verifies again.
 */
export async function verifyActionToken(
  keys: ActionTokenKeys | undefined,
  check: ActionTokenCheck,
): Promise<ActionTokenVerdict> {
  if (!keys) return refused('action_token_invalid', 'this worker has no action-token key configured', null);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(check.token, keys.key, {
      algorithms: ['HS256'],
      typ: action_token_type,
      audience: action_token_audience,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired)
      return refused('action_token_expired', 'the action token has expired', claimedBySigned(error.payload));
    return refused('action_token_invalid', 'the action token is not one this wallet signed, or is malformed', null);
  }
  return claimsVerdict(keys, check, payload);
}

/** The claims of a token whose signature held: fresh enough, for this action and transfer, by a valid identity. */
function claimsVerdict(keys: ActionTokenKeys, check: ActionTokenCheck, payload: JWTPayload): ActionTokenVerdict {
  const identity = operatorIdentity(payload.sub);
  if (!identity.ok) return refused('operator_invalid', `the token's operator is refused: ${identity.why}`, null);
  const operator = identity.operator;
  const nowS = Date.now() / 1000;
  if (payload.iat! > nowS + clock_tolerance_s)
    return refused('action_token_expired', 'the action token is issued in the future', operator);
  if (nowS - payload.iat! > keys.ttlS)
    return refused('action_token_expired', `the action token is older than its maximum age (${keys.ttlS} s)`, operator);
  if (payload.act !== check.action)
    return refused(
      'action_token_mismatch',
      `the action token is for ${String(payload.act)}, not ${check.action}`,
      operator,
    );
  if (payload.tid !== check.transferId)
    return refused('action_token_mismatch', 'the action token is for another transfer', operator);
  if (payload.neg !== undefined && payload.neg !== true)
    return refused('action_token_invalid', 'the action token has a malformed neg claim', operator);
  return { ok: true, operator, tokenId: String(payload.jti), allowNegative: payload.neg === true };
}

function claimedBySigned(payload: JWTPayload): string | null {
  const identity = operatorIdentity(payload.sub);
  return identity.ok ? identity.operator : null;
}

function refused(
  refusal: Extract<ActionTokenVerdict, { ok: false }>['refusal'],
  message: string,
  operator: string | null,
): ActionTokenVerdict {
  return { ok: false, refusal, message, operator };
}
