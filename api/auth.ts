import { createSecretKey } from 'node:crypto';
import type { RequestHandler, Request } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { operator_length_max, operatorIdentity } from '../domain/operators';
import { ApiError } from './errors';

export type Role = 'customer' | 'ops';
export interface Principal {
  userId: string;
  role: Role;
}

/**
 * A customer's subject is its user id; an operator's is an identity normalized once
 * (domain/operators.ts: NFKC, case fold, invisible characters refused), bounded once normalized.
 */
const claimsSchema = z.union([
  z.object({ sub: z.string().min(1).max(64), role: z.literal('customer') }),
  z.object({ sub: z.string().min(1).max(operator_length_max), role: z.literal('ops') }),
]);

const token_lifetime_default = '12h';
/** TOKEN_MAX_AGE's default: a token is refused this long after it was issued, whatever its exp says. */
export const token_max_age_default_s = 24 * 3600;
/** An issuer's clock may run this far ahead of the API's (for iat only: exp is checked strictly). */
const clock_tolerance_s = 30;

export async function signToken(
  secret: string,
  principal: Principal,
  expiresIn: string = token_lifetime_default,
): Promise<string> {
  return new SignJWT({ role: principal.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** Verified tokens kept, so a client's next request with the same token skips the HMAC check. */
const verified_tokens_max = 10_000;

/**
 * Verifies `Authorization: Bearer <HS256 JWT>` and attaches the principal to the request.
 * `exp` and `iat` are required, and a token older than `maxAgeS` is refused even when its `exp`
 * is later: a token that never expires, or expires in ten years, is a credential that cannot be
 * withdrawn. A token that verified once is remembered (the whole string, signature included, is
 * the key) until it expires: clients send the same token with every request, and verifying it
 * again is about a twentieth of the API's CPU per transfer.
 */
export function authenticate(secret: string, maxAgeS: number = token_max_age_default_s): RequestHandler {
  // A KeyObject made once: with raw bytes jose would import the HMAC key again on every request.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  return async (request, _response, next) => {
    const header = request.get('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(header);
    if (!match) return next(new ApiError('unauthenticated', 'send Authorization: Bearer <token>'));
    const token = match[1]!;
    const known = verified.get(token);
    if (known && known.expiresAtMs > Date.now()) {
      request.principal = known.principal;
      return next();
    }
    verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'iat', 'sub'] });
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) return next(new ApiError('unauthenticated', 'token lacks a valid sub or role claim'));
      // The maximum age is checked here rather than by jose, whose clock tolerance would stretch it.
      const nowS = Date.now() / 1000;
      if (payload.iat! > nowS + clock_tolerance_s)
        return next(new ApiError('unauthenticated', 'token is issued in the future'));
      if (nowS - payload.iat! > maxAgeS)
        return next(new ApiError('unauthenticated', `token is older than the maximum token age (${maxAgeS} s)`));
      const principal = principalOfClaims(claims.data);
      if (typeof principal === 'string') return next(new ApiError('unauthenticated', principal));
      request.principal = principal;
      // Remembered until whichever comes first: its exp, or the end of its maximum age.
      const expiresAtMs = Math.min(payload.exp! * 1000, (payload.iat! + maxAgeS) * 1000);
      verified.set(token, { principal: request.principal, expiresAtMs });
      if (verified.size > verified_tokens_max) verified.delete(verified.keys().next().value!);
      next();
    } catch {
      next(
        new ApiError(
          'unauthenticated',
          'token is invalid, expired, older than the maximum token age, or lacks exp or iat',
        ),
      );
    }
  };
}

/** The principal a token's claims name: an operator by their normalized identity, or why the subject is refused. */
function principalOfClaims(claims: { sub: string; role: Role }): Principal | string {
  if (claims.role === 'customer') return { userId: claims.sub, role: 'customer' };
  const identity = operatorIdentity(claims.sub);
  if (!identity.ok) return `the token's subject is not a valid operator identity: ${identity.why}`;
  return { userId: identity.operator, role: 'ops' };
}

export function principalOf(request: Request): Principal {
  if (!request.principal) throw new Error('route is missing the authenticate middleware');
  return request.principal;
}

/** A customer acts only on its own user id; ops act on anyone. */
export function requireSelfOrOps(request: Request, userId: string): void {
  const principal = principalOf(request);
  if (principal.role !== 'ops' && principal.userId !== userId) {
    throw new ApiError('forbidden', `a customer may act only on its own wallet (${principal.userId})`);
  }
}

export function requireOps(request: Request): void {
  if (principalOf(request).role !== 'ops') throw new ApiError('forbidden', 'this operation is for ops only');
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}
