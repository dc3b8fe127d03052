import http from 'node:http';
import fc from 'fast-check';

/**
 * Generators of hostile requests for test/hostile-input.test.ts, and a client that sends them
 * byte for byte. Bodies are kept as ordered pairs of a key and the raw JSON text of its value, so a
 * generated body can hold what a JavaScript object cannot: a key twice, a `__proto__` key (which
 * JSON.stringify of an object would drop), and number literals such as `1e3` or `-0`.
 */

export type RawPairs = [key: string, rawValue: string][];

export interface RawRequest {
  method: string;
  /** Already percent-encoded, query included. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

export function serializePairs(pairs: RawPairs): string {
  return `{${pairs.map(([key, raw]) => `${JSON.stringify(key)}:${raw}`).join(',')}}`;
}

/** Percent-encodes every byte of the UTF-8 form except RFC 3986's unreserved characters (a lone surrogate becomes U+FFFD). */
export function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** Keep-alive HTTP/1.1 straight onto the socket: no URL normalisation, no header rewriting. */
export function rawClient(baseUrl: string) {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  function send(request: RawRequest): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = request.body.length;
      const outgoing = http.request(
        { host: hostname, port: Number(port), method: request.method, path: request.path, headers, agent },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              contentType: String(incoming.headers['content-type'] ?? ''),
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }
  return { send, close: () => agent.destroy() };
}

/** Strings that have broken parsers, routers, databases and loggers before. */
const notorious_strings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '\u202e',
  '\ufeff',
  '\u00a0',
  'İ',
  'ﬀ',
  '０',
  '٣',
  '𝟘',
  '..',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "' or 1=1 --",
  '"; drop table entries; --',
  '%00',
  '%',
  '\r\nx-injected: 1',
  '${7*7}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e3',
  '0x10',
  'x'.repeat(300),
  'é'.repeat(2_000),
];

export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...notorious_strings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
);

/** Number literals that JSON.parse would quietly turn into something else, or that are simply out of range. */
export const hostileNumberLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e3',
    '1E+2',
    '100.0',
    '-0',
    '0.1',
    '1.7976931348623157e309',
    '9007199254740993',
    '-9007199254740993',
    '5e-324',
    '100.00000000000000001',
    '99999999999999999999999',
  ),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((value) => !Number.isInteger(value))
    .map(String),
  fc
    .tuple(fc.boolean(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }))
    .map(([negative, value]) => (negative ? '-' : '') + String(value)),
);

/** The raw JSON text of a value that is not of `sample`'s type (null excepted: some fields are nullable). */
export function wrongTypeValue(sample: string): fc.Arbitrary<string> {
  const value: unknown = JSON.parse(sample);
  const others: fc.Arbitrary<string>[] = [
    fc.constantFrom('[]', '{}', '[1]', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}'),
    fc.json({ maxDepth: 2 }).filter((text) => /^[[{]/.test(text)),
  ];
  if (typeof value !== 'string') others.push(hostileText.map((text) => JSON.stringify(text)));
  if (typeof value !== 'number') others.push(fc.integer().map(String));
  if (typeof value !== 'boolean') others.push(fc.constantFrom('true', 'false'));
  return fc.oneof(...others);
}

/** Content types a JSON body must not be accepted under. */
export const wrong_content_types = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/jsonp',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset="iso-8859-1"',
];

/** Query keys: the real ones, prototype names and bracket syntax that other parsers turn into objects. */
export const hostileQueryKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'wait',
    'at',
    'limit',
    'cursor',
    'currency',
    'from',
    'to',
    'status',
    'stuck',
    'operator',
    'action',
    'target',
  ),
  fc.constantFrom('__proto__', 'constructor', 'wait[]', '__proto__[admin]', 'a[b][c]', 'limit[$gt]', ''),
  hostileText,
);

export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e3',
    '-0',
    'NaN',
    'Infinity',
    '0x10',
    ' 5',
    '5.5',
    '99999999999999999999',
    '-1',
    '30',
    '31',
    'true',
    'TRUE',
    'COMPLETED',
  ),
  fc.constantFrom(
    '2026-11-22T08:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-22T08:00:00+99:00',
  ),
  fc.constantFrom('9223372036854775808', '1_1_1', '9223372036854775807_999_9223372036854775807'),
  hostileText,
);

/** Percent-escapes that do not decode (lone, non-hex, truncated, overlong and surrogate UTF-8). */
export const broken_escapes = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF'];
