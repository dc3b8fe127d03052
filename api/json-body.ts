import express, { type RequestHandler } from 'express';
import { parse } from 'lossless-json';
import { ApiError } from './errors';

const body_size_max = '16kb';
/** A batch of up to 1,000 items: about 100 bytes an item for a payroll file, with room for notes. */
const batch_body_size_max = '1mb';
const batch_path = '/v1/wallet/transfer-batches';
/** Our bodies are flat objects; anything deeper than this is an attack, not a request. */
export const json_depth_max = 8;

/**
 * Request bodies are read with lossless-json rather than JSON.parse, because JSON.parse quietly
 * changes what a client meant: `1e3` and `100.00000000000000001` both arrive as whole numbers,
 * `9007199254740993` arrives as its neighbour, and a key sent twice keeps its last value where a
 * proxy or signature check in front of us may have read the first. Here every number must be a
 * plain integer literal in the safe range (no body field takes anything else: rates are decimal
 * strings), a key sent twice with different values is refused, and nesting is bounded before the
 * parser (which recurses) ever sees the text. `__proto__` arrives as an ordinary own key, as it
 * does from JSON.parse, and the strict schemas refuse it like any unknown field.
 */
export function jsonBodies(): RequestHandler[] {
  const small = express.raw({ type: 'application/json', limit: body_size_max });
  const batch = express.raw({ type: 'application/json', limit: batch_body_size_max });
  const readBody: RequestHandler = (request, response, next) =>
    (request.method === 'POST' && request.path === batch_path ? batch : small)(request, response, next);
  return [requireJsonBodies, readBody, parseJsonBody];
}

/** A body that is not JSON is refused up front, rather than read as "missing fields". */
const requireJsonBodies: RequestHandler = (request, _response, next) => {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (hasBody && !request.is('application/json')) {
    return next(new ApiError('unsupported_media_type', 'send the body as Content-Type: application/json'));
  }
  next();
};

class NumberLiteralError extends Error {}

const plain_integer = /^(0|-?[1-9][0-9]*)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const parseJsonBody: RequestHandler = (request, _response, next) => {
  if (!Buffer.isBuffer(request.body)) return next();
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return next(new ApiError('unsupported_media_type', 'request body must be UTF-8 JSON'));
  }
  try {
    request.body = parseStrictJson(request.body);
    next();
  } catch (error) {
    if (error instanceof NumberLiteralError) return next(new ApiError('invalid_request', error.message));
    next(
      new ApiError(
        'malformed_json',
        `request body is not valid JSON: ${error instanceof Error ? error.message.slice(0, 120) : 'unreadable'}`,
      ),
    );
  }
};

function parseStrictJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return {};
  const text = utf8.decode(bytes);
  // As express.json's strict mode: a body is an object or an array, never a bare value.
  if (!/^[\s]*[{[]/.test(text)) throw new Error('the body must be a JSON object');
  const depth = nestingDepth(text);
  if (depth > json_depth_max) throw new Error(`nesting deeper than ${json_depth_max} levels`);
  return parse(text, undefined, parseIntegerLiteral);
}

function parseIntegerLiteral(literal: string): number {
  const value = Number(literal);
  if (!plain_integer.test(literal) || !Number.isSafeInteger(value)) {
    throw new NumberLiteralError(
      `${literal.slice(0, 32)} is not accepted: numbers are whole minor units written as plain integers (no fraction, exponent or -0), at most 2^53-1`,
    );
  }
  return value;
}

/** The deepest nesting of objects and arrays, ignoring brackets inside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth);
    else if (char === '}' || char === ']') depth--;
  }
  return deepest;
}
