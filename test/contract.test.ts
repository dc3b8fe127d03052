import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openApiDocument } from '../api/openapi';
import { audit_target_types, ops_actions, ops_channels } from '../ledger/audit';
import { ContractViolation, contractOf, type Exchange } from './support/contract';
import { startTestStack, type TestStack } from './support/stack';

const json_headers = () => new Headers({ 'content-type': 'application/json; charset=utf-8' });

function answer(method: string, path: string, status: number, body: unknown, headers = json_headers()): Exchange {
  return { method, path, status, headers, body };
}

describe('the contract check (test/support/contract.ts)', () => {
  const check = contractOf(JSON.parse(JSON.stringify(openApiDocument())));
  const refused = (exchange: Exchange, expected: RegExp) =>
    assert.throws(
      () => check(exchange),
      (error: Error) => error instanceof ContractViolation && expected.test(error.message),
    );

  it('passes documented answers', () => {
    check(answer('GET', '/healthz', 200, { status: 'ok' }));
    check(answer('GET', '/v1/wallet/user_A/balance?at=x', 200, { user_id: 'user_A', balances: [] }));
    check(answer('GET', '/no/such/route', 404, { error: { code: 'route_not_found', message: 'no route' } }));
  });

  it('fails a field the document lacks, naming the operation, the status and the field', () => {
    refused(answer('GET', '/healthz', 200, { status: 'ok', uptime: 1 }), /^GET \/healthz answered 200: .*\(uptime\)/);
    refused(
      answer('GET', '/v1/wallet/user_A/balance', 200, {
        user_id: 'user_A',
        balances: [{ currency: 'USD', amount: 1, pending: 0 }],
      }),
      /^GET \/v1\/wallet\/\{user_id\}\/balance answered 200: body\/balances\/0 must NOT have additional properties \(pending\)/,
    );
  });

  it('fails a status the operation does not document, also on an undocumented route', () => {
    refused(answer('GET', '/healthz', 500, { status: 'ok' }), /status 500 is not documented/);
    refused(answer('POST', '/v1/wallet/users', 200, { user_id: 'u', shard: 0, created_at: '' }), /status 200/);
    refused(answer('GET', '/no/such/route', 200, {}), /\(undocumented\) answered 200/);
  });

  it("fails an error code the document lacks, or one sent with another code's status", () => {
    refused(answer('GET', '/v1/ops/audit', 400, { error: { code: 'bad_cursor', message: 'm' } }), /allowed values/);
    refused(
      answer('GET', '/v1/ops/audit', 404, { error: { code: 'invalid_request', message: 'm' } }),
      /allowed values/,
    );
  });

  it('fails a 429 without Retry-After, and a body of an undocumented content type', () => {
    refused(answer('GET', '/v1/ops/audit', 429, { error: { code: 'rate_limited', message: 'm' } }), /Retry-After/);
    refused(
      answer('GET', '/healthz', 200, 'ok', new Headers({ 'content-type': 'text/html' })),
      /content type text\/html/,
    );
  });
});

describe('the served contract', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ withWorker: false, callerLimits: { opsRequestsPerWindow: 40 } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('documents the unauthenticated routes, each checked as the api client receives it', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.equal((await stack.api.call('GET', path)).status, 200, path);
    }
  });

  it('holds the audit lists the database holds: every action an audit page can show is in the enums', async () => {
    const constraints = await stack.shards.pools[0]!.query<{ name: string; definition: string }>(
      `select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
        where conrelid = 'ops_audit'::regclass and contype = 'c'`,
    );
    const valuesOf = (name: string) =>
      [...constraints.rows.find((row) => row.name === name)!.definition.matchAll(/'([a-z_]+)'::text/g)]
        .map((match) => match[1])
        .sort();
    assert.deepEqual(valuesOf('ops_audit_action_check'), [...ops_actions].sort());
    assert.deepEqual(valuesOf('ops_audit_target_type_check'), [...audit_target_types].sort());
    assert.deepEqual(valuesOf('ops_audit_via_check'), [...ops_channels].sort());
  });

  it('answers past the rate limit with a documented 429 carrying Retry-After and the RateLimit headers', async () => {
    const answers = [];
    for (let request = 0; request < 45; request++)
      answers.push(await stack.api.call('GET', '/v1/ops/audit', stack.api.ops));
    assert.equal(answers.at(-1)!.status, 429);
    assert.equal(answers.at(-1)!.body.error.code, 'rate_limited');
  });
});
