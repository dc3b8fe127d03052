import express, { Router, type RequestHandler } from 'express';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { authenticate, principalOf, requireOps } from '../auth';
import { ApiError } from '../errors';
import { CodecPayloads } from '../schemas';

export interface CodecEndpointOptions {
  /** The data converter the wallet's clients and workers use: its codecs decode here. */
  dataConverter: DataConverter;
  /** Browser origins allowed to call the endpoint (the Temporal Web UI), e.g. http://127.0.0.1:8233. */
  corsOrigins: readonly string[];
}

/** The cookie an operator's browser sends to the codec endpoint, holding their ops token. */
export const codec_session_cookie = 'wallet_codec_session';
/** A history page of payloads; Temporal's own limit on one payload is 2 MB. */
const codec_body_size_max = '4mb';
const preflight_max_age_s = 600;

/**
 * Temporal's codec server protocol (POST <endpoint>/encode and /decode, a Payloads JSON body with
 * base64 metadata and data), for the Web UI and the CLI's `--codec-endpoint`. It decrypts what
 * the wallet encrypted, so it is for ops only: a Bearer ops token (the CLI's `--codec-auth`, or
 * a UI that passes its access token), or, from a browser, the session cookie an operator gets by
 * signing in once at GET /codec/login. The cookie is HttpOnly and SameSite=Strict, so pages of
 * another site cannot send it; its Path is /codec, so it is worth nothing to the rest of the API.
 * Only the listed origins get CORS answers, with credentials, so no other page can read a result.
 */
export function codecRoutes(options: CodecEndpointOptions, authSecret: string, tokenMaxAgeS?: number): Router {
  const router = Router();
  const codecs = options.dataConverter.payloadCodecs ?? [];
  const verify = authenticate(authSecret, tokenMaxAgeS);
  router.use('/codec', allowOrigins(options.corsOrigins));
  router.get('/codec/login', (_request, response) => {
    response.type('html').send(login_page);
  });
  router.post(
    '/codec/session',
    express.urlencoded({ extended: false, limit: '8kb' }),
    formTokenAsBearer,
    verify,
    (request, response) => {
      requireOps(request);
      const token = /^Bearer (.+)$/.exec(request.get('authorization')!)![1]!;
      response.cookie(codec_session_cookie, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.secure,
        path: '/codec',
      });
      response.type('html').send(signedInPage(principalOf(request).userId));
    },
  );
  for (const direction of ['encode', 'decode'] as const) {
    router.post(
      `/codec/${direction}`,
      sessionCookieAsBearer,
      verify,
      express.json({ limit: codec_body_size_max }),
      async (request, response) => {
        requireOps(request);
        const body = CodecPayloads.safeParse(request.body);
        if (!body.success)
          throw new ApiError('invalid_request', 'send {"payloads": [{"metadata": {...}, "data": "<base64>"}]}');
        const payloads = body.data.payloads.map(fromJson);
        // A payload that does not decrypt (altered, truncated, under a key not in PAYLOAD_KEYS) is the caller's input.
        const converted = await runCodecs(codecs, direction, payloads).catch((error: unknown) => {
          throw new ApiError('invalid_request', `a payload could not be ${direction}d: ${(error as Error).message}`);
        });
        response.json({ payloads: converted.map(toJson) });
      },
    );
  }
  return router;
}

function runCodecs(codecs: readonly PayloadCodec[], direction: 'encode' | 'decode', payloads: Payload[]) {
  // As the SDK does: encode runs the codecs in order, decode in reverse.
  const ordered = direction === 'encode' ? codecs : [...codecs].reverse();
  return ordered.reduce(
    async (previous, codec) => (direction === 'encode' ? codec.encode(await previous) : codec.decode(await previous)),
    Promise.resolve(payloads),
  );
}

function fromJson(payload: { metadata?: Record<string, string> | undefined; data?: string | undefined }): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload) {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

/** CORS with credentials for the listed origins only; a preflight is answered here. */
function allowOrigins(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (request, response, next) => {
    const origin = request.get('origin');
    response.vary('Origin');
    if (origin && allowed.has(origin)) {
      response.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    }
    if (request.method !== 'OPTIONS') return next();
    if (origin && allowed.has(origin)) {
      response.set({
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        'Access-Control-Max-Age': String(preflight_max_age_s),
      });
    }
    response.status(204).end();
  };
}

/** A browser has no Authorization header to send: its session cookie stands in for one. */
const sessionCookieAsBearer: RequestHandler = (request, _response, next) => {
  if (request.get('authorization') === undefined) {
    const token = cookieValue(request.get('cookie') ?? '', codec_session_cookie);
    if (token) request.headers.authorization = `Bearer ${token}`;
  }
  next();
};

/** The sign-in form posts the token as a field. */
const formTokenAsBearer: RequestHandler = (request, _response, next) => {
  const token = (request.body as { token?: unknown } | undefined)?.token;
  if (request.get('authorization') === undefined && typeof token === 'string')
    request.headers.authorization = `Bearer ${token.trim()}`;
  next();
};

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

const login_page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wallet codec: sign in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Sign in to the wallet's codec endpoint</h1>
<p>The Temporal Web UI decrypts the wallet's payloads through this endpoint. Paste an ops token
(<code>npm run token -- --ops &lt;your name&gt;</code>); your browser keeps it in an HttpOnly cookie
that only this endpoint receives.</p>
<form method="post" action="/codec/session">
<textarea name="token" rows="5" cols="70" required aria-label="ops token"></textarea><br>
<button type="submit">Sign in</button>
</form></body></html>`;

function signedInPage(operator: string): string {
  const name = operator.replace(/[^A-Za-z0-9_.@-]/g, '?');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wallet codec: signed in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto"><h1>Signed in as ${name}</h1>
<p>The Web UI can now decode payloads (its codec setting must include cross-origin credentials).</p></body></html>`;
}
