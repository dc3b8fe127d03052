import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBodies, json_depth_max } from '../../api/json-body';
import { ApiError } from '../../api/errors';

/** The body parser alone, on raw bytes as express.raw leaves them: what it makes of the body, or the error it passes on. */
function parsed(body: string | Buffer, contentType = 'application/json'): { body?: unknown; error?: ApiError } {
  const parse = jsonBodies().at(-1)!;
  const request = { body: Buffer.isBuffer(body) ? body : Buffer.from(body), headers: { 'content-type': contentType } };
  let error: unknown;
  void parse(request as never, {} as never, (passed?: unknown) => (error = passed));
  if (error === undefined) return { body: request.body };
  assert.ok(error instanceof ApiError, `not an ApiError: ${String(error)}`);
  return { error };
}

describe('JSON request bodies', () => {
  it('reads plain integers exactly and an empty body as an empty object', () => {
    assert.deepEqual(parsed('{"amount": 9007199254740991, "to": "bob"}').body, {
      amount: 9007199254740991,
      to: 'bob',
    });
    assert.deepEqual(parsed('').body, {});
  });

  it('refuses numbers JSON.parse would quietly change, as invalid_request', () => {
    for (const number of ['1e3', '100.0', '-0', '9007199254740993', '0.5', '01']) {
      const { error } = parsed(`{"amount": ${number}}`);
      assert.ok(error, `${number} was accepted`);
      assert.equal(error.code, number === '01' ? 'malformed_json' : 'invalid_request', number);
    }
  });

  it('refuses a key sent twice with different values, bare values and invalid UTF-8 as malformed_json', () => {
    assert.equal(parsed('{"to": "bob", "to": "eve"}').error?.code, 'malformed_json');
    assert.equal(parsed('"just a string"').error?.code, 'malformed_json');
    assert.equal(parsed(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])).error?.code, 'malformed_json');
  });

  it(`refuses nesting deeper than ${json_depth_max} levels before parsing, but not brackets inside strings`, () => {
    const deep = '['.repeat(json_depth_max + 1) + ']'.repeat(json_depth_max + 1);
    assert.equal(parsed(`{"a": ${deep}}`).error?.code, 'malformed_json');
    assert.deepEqual(parsed(`{"note": "${'['.repeat(50)}"}`).body, { note: '['.repeat(50) });
  });

  it('refuses a charset other than UTF-8', () => {
    assert.equal(parsed('{}', 'application/json; charset=latin1').error?.code, 'unsupported_media_type');
    assert.deepEqual(parsed('{}', 'application/json; charset=utf-8').body, {});
  });
});
