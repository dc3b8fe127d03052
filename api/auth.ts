import { createSecretKey } from 'node:crypto';
import type { RequestHandler, Request } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { ApiError } from './errors';

export type Role = 'customer' | 'ops';
export interface Principal {
  userId: string;
  role: Role;
}

const claimsSchema = z.object({ sub: z.string().min(1).max(64), role: z.enum(['customer', 'ops']) });

const token_lifetime_default = '12h';

export async function signToken(secret: string, principal: Principal, expiresIn: string = token_lifetime_default): Promise<string> {
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
 * A token that verified once is remembered (the whole string, signature included, is the key)
 * until it expires: clients send the same token with every request, and verifying it again is
 * about a twentieth of the API's CPU per transfer.
 */
export function authenticate(secret: string): RequestHandler {
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
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) return next(new ApiError('unauthenticated', 'token lacks a valid sub or role claim'));
      request.principal = { userId: claims.data.sub, role: claims.data.role };
      // Only tokens that expire are remembered, and never past their expiry.
      if (payload.exp !== undefined) {
        verified.set(token, { principal: request.principal, expiresAtMs: payload.exp * 1000 });
        if (verified.size > verified_tokens_max) verified.delete(verified.keys().next().value!);
      }
      next();
    } catch {
      next(new ApiError('unauthenticated', 'token is invalid or expired'));
    }
  };
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
