import fc from 'fast-check';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { token_max_age_default_s, type Role } from '../../api/auth';

/**
 * Authorization headers that must all be refused with 401, each with exactly one defect and the
 * rest of the token as the rightful caller's would be: if the defect were ignored, the request
 * would go through. Recipes are generated (fast-check arbitraries are synchronous); `headerFor`
 * signs them.
 */
export type TokenRecipe =
  | { defect: 'missing' }
  | { defect: 'scheme'; header: (token: string) => string }
  | { defect: 'garbage'; token: string }
  | { defect: 'forged'; secret: string }
  | { defect: 'alg_none' }
  | { defect: 'alg_other'; alg: 'HS384' | 'HS512' }
  | { defect: 'tampered'; change: 'role' | 'sub' | 'exp' }
  | { defect: 'claims'; why: string; claims: (nowS: number, caller: Caller) => Record<string, unknown> };

export interface Caller {
  userId: string;
  role: Role;
}

const token_characters = /^[A-Za-z0-9_.-]{1,200}$/;
const hour_s = 3600;

const validClaims = (nowS: number, caller: Caller): { sub: string; role: Role; iat: number; exp: number } => ({
  sub: caller.userId,
  role: caller.role,
  iat: nowS,
  exp: nowS + hour_s,
});

const claimDefects: fc.Arbitrary<TokenRecipe> = fc.oneof(
  fc.constant<TokenRecipe>({
    defect: 'claims',
    why: 'no exp',
    claims: (nowS, caller) => ({ sub: caller.userId, role: caller.role, iat: nowS }),
  }),
  fc.constant<TokenRecipe>({
    defect: 'claims',
    why: 'no iat',
    claims: (nowS, caller) => ({ sub: caller.userId, role: caller.role, exp: nowS + hour_s }),
  }),
  fc.constant<TokenRecipe>({
    defect: 'claims',
    why: 'no sub',
    claims: (nowS, caller) => ({ role: caller.role, iat: nowS, exp: nowS + hour_s }),
  }),
  fc.constant<TokenRecipe>({
    defect: 'claims',
    why: 'no role',
    claims: (nowS, caller) => ({ sub: caller.userId, iat: nowS, exp: nowS + hour_s }),
  }),
  fc.integer({ min: 1, max: 10 * 365 * 24 * hour_s }).map<TokenRecipe>((ago) => ({
    defect: 'claims',
    why: `expired ${ago} s ago`,
    claims: (nowS, caller) => ({ ...validClaims(nowS, caller), exp: nowS - ago }),
  })),
  fc.integer({ min: 60, max: 365 * 24 * hour_s }).map<TokenRecipe>((over) => ({
    defect: 'claims',
    why: `issued ${over} s beyond the maximum age`,
    claims: (nowS, caller) => ({ ...validClaims(nowS, caller), iat: nowS - token_max_age_default_s - over }),
  })),
  fc.integer({ min: 60, max: 365 * 24 * hour_s }).map<TokenRecipe>((ahead) => ({
    defect: 'claims',
    why: `issued ${ahead} s in the future`,
    claims: (nowS, caller) => ({ ...validClaims(nowS, caller), iat: nowS + ahead, exp: nowS + ahead + hour_s }),
  })),
  fc.integer({ min: 60, max: 365 * 24 * hour_s }).map<TokenRecipe>((ahead) => ({
    defect: 'claims',
    why: `not before ${ahead} s from now`,
    claims: (nowS, caller) => ({ ...validClaims(nowS, caller), nbf: nowS + ahead }),
  })),
  fc
    .oneof(
      fc.string({ maxLength: 20 }).filter((role) => role !== 'customer' && role !== 'ops'),
      fc.constantFrom<unknown>(1, true, null, ['ops'], { ops: true }, 'OPS', 'admin'),
    )
    .map<TokenRecipe>((role) => ({
      defect: 'claims',
      why: `role ${JSON.stringify(role)}`,
      claims: (nowS, caller) => ({ ...validClaims(nowS, caller), role }),
    })),
  fc
    .oneof(fc.constantFrom<unknown>('', 42, null, ['x'], {}), fc.string({ minLength: 65, maxLength: 300 }))
    .map<TokenRecipe>((sub) => ({
      defect: 'claims',
      why: `sub ${JSON.stringify(sub).slice(0, 40)}`,
      // A customer's sub is a user id (at most 64); an operator's an identity of at most 128 (api/auth.ts).
      claims: (nowS, caller) => ({
        ...validClaims(nowS, caller),
        sub: typeof sub === 'string' && caller.role === 'ops' ? sub.padEnd(129, 'x') : sub,
      }),
    })),
  fc.constantFrom<unknown>('soon', null, [1], '1e99', true).map<TokenRecipe>((exp) => ({
    defect: 'claims',
    why: `exp ${JSON.stringify(exp)}`,
    claims: (nowS, caller) => ({ ...validClaims(nowS, caller), exp }),
  })),
);

export const hostileTokenRecipe: fc.Arbitrary<TokenRecipe> = fc.oneof(
  fc.constant<TokenRecipe>({ defect: 'missing' }),
  fc
    .constantFrom<(token: string) => string>(
      (token) => `Basic ${token}`,
      (token) => `bearer ${token}`,
      (token) => `Bearer  ${token}`,
      (token) => `Bearer ${token} ${token}`,
      (token) => `Bearer ${token}é`,
      (token) => `Token ${token}`,
      () => 'Bearer',
      () => 'Bearer ',
      (token) => `Bearer ${token}${'a'.repeat(4_097)}`,
      (token) => token,
    )
    .map<TokenRecipe>((header) => ({ defect: 'scheme', header })),
  fc.stringMatching(token_characters).map<TokenRecipe>((token) => ({ defect: 'garbage', token })),
  fc.string({ minLength: 1, maxLength: 64 }).map<TokenRecipe>((secret) => ({ defect: 'forged', secret })),
  fc.constant<TokenRecipe>({ defect: 'alg_none' }),
  fc.constantFrom<'HS384' | 'HS512'>('HS384', 'HS512').map<TokenRecipe>((alg) => ({ defect: 'alg_other', alg })),
  fc
    .constantFrom('role' as const, 'sub' as const, 'exp' as const)
    .map<TokenRecipe>((change) => ({ defect: 'tampered', change })),
  claimDefects,
);

function sign(claims: Record<string, unknown>, secret: string, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/** The Authorization header of a recipe (undefined: none sent). */
export async function headerFor(recipe: TokenRecipe, secret: string, caller: Caller): Promise<string | undefined> {
  const nowS = Math.floor(Date.now() / 1000);
  const valid = () => sign(validClaims(nowS, caller), secret);
  switch (recipe.defect) {
    case 'missing':
      return undefined;
    case 'scheme':
      return recipe.header(await valid());
    case 'garbage':
      return `Bearer ${recipe.token}`;
    case 'forged':
      // A different secret, never the real one with something appended to it.
      return `Bearer ${await sign(validClaims(nowS, caller), recipe.secret === secret ? `${secret}!` : recipe.secret)}`;
    case 'alg_none':
      return `Bearer ${new UnsecuredJWT(validClaims(nowS, caller) as JWTPayload).encode()}`;
    case 'alg_other':
      return `Bearer ${await sign(validClaims(nowS, caller), secret, recipe.alg)}`;
    case 'tampered': {
      const [header, , signature] = (await valid()).split('.');
      // The signed claims, with one changed: the other role, someone else, or an exp ten years on.
      const claims = validClaims(nowS, caller);
      if (recipe.change === 'role') claims.role = caller.role === 'ops' ? 'customer' : 'ops';
      if (recipe.change === 'sub') claims.sub = `${caller.userId}_x`;
      if (recipe.change === 'exp') claims.exp = nowS + 10 * 365 * 24 * hour_s;
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `Bearer ${header}.${payload}.${signature}`;
    }
    case 'claims':
      return `Bearer ${await sign(recipe.claims(nowS, caller), secret)}`;
  }
}

export function describeRecipe(recipe: TokenRecipe): string {
  if (recipe.defect === 'claims') return `claims: ${recipe.why}`;
  return recipe.defect === 'tampered' ? `tampered ${recipe.change}` : recipe.defect;
}
