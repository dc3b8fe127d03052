import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SignJWT } from 'jose';
import { checkContract } from './support/contract';
import { driftedAccounts } from './support/ledger';
import { startTestStack, test_auth_secret, test_limits, test_timings, tokenFor, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** A hostile or buggy client is slowed down alone: tokens expire, requests and open waits are bounded per caller. */
/** Longer than the server's keep-alive timeout (Node's default, 5 s) and undici's (4 s). */
const keep_alive_settle_ms = 6_000;

describe('caller limits', () => {
  const customer_requests_per_window = 25;
  const waits_per_caller = 2;
  let stack: TestStack;
  let alice: string;
  let bob: string;
  /** A transfer held for review: PENDING_REVIEW for as long as the file runs, so every wait on it times out. */
  let heldTransferId: string;

  before(async () => {
    stack = await startTestStack({
      tokenMaxAgeS: 3,
      timings: { ...test_timings, reviewTimeoutMs: 600_000 },
      callerLimits: {
        customerRequestsPerWindow: customer_requests_per_window,
        rateWindowMs: 60_000,
        waitsPerCaller: waits_per_caller,
      },
    });
    alice = uniqueName('alice');
    bob = uniqueName('bob');
    assert.equal((await stack.api.createUser(alice)).status, 201);
    assert.equal((await stack.api.createUser(bob)).status, 201);
    assert.equal(
      (await stack.api.deposit(alice, Number(test_limits.reviewThresholdMinor) * 2)).body.status,
      'COMPLETED',
    );
    const held = await stack.api.call('POST', '/v1/wallet/transfers', {
      ...stack.api.ops,
      body: {
        from_user_id: alice,
        to_user_id: bob,
        amount: Number(test_limits.reviewThresholdMinor),
        currency: 'USD',
        idempotency_key: uniqueName('held'),
      },
    });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    heldTransferId = held.body.transfer_id;
    await waitForStatus(heldTransferId, 'PENDING_REVIEW');
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  async function waitForStatus(transferId: string, status: string) {
    for (let tries = 0; tries < 100; tries++) {
      const answer = await stack.api.call('GET', `/v1/wallet/transfers/${transferId}`, stack.api.ops);
      if (answer.body.status === status) return;
      await sleep(100);
    }
    assert.fail(`${transferId} never reached ${status}`);
  }

  async function get(path: string, token: string) {
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const answer = { status: response.status, headers: response.headers, body: (await response.json()) as any };
    await checkContract(stack.baseUrl, { method: 'GET', path, ...answer });
    return answer;
  }

  async function transferCount(): Promise<number> {
    const counts = await Promise.all(
      stack.shards.pools.map((pool) => pool.query<{ n: string }>('select count(*) as n from transfers')),
    );
    return counts.reduce((sum, { rows }) => sum + Number(rows[0]!.n), 0);
  }

  describe('tokens', () => {
    const sign = (claims: { exp?: number; iat?: number }) => {
      let token = new SignJWT({ role: 'customer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(alice);
      if (claims.iat !== undefined) token = token.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) token = token.setExpirationTime(claims.exp);
      return token.sign(new TextEncoder().encode(test_auth_secret));
    };
    const now = () => Math.floor(Date.now() / 1000);

    it('refuses a token without exp, without iat, expired, or older than the maximum age', async () => {
      const cases = {
        'no exp': await sign({ iat: now() }),
        'no iat': await sign({ exp: now() + 600 }),
        expired: await sign({ iat: now() - 60, exp: now() - 31 }),
        'issued 10 s ago, exp in 10 years (max age 3 s)': await sign({
          iat: now() - 10,
          exp: now() + 10 * 365 * 86_400,
        }),
        'issued in the future': await sign({ iat: now() + 3_600, exp: now() + 7_200 }),
      };
      for (const [name, token] of Object.entries(cases)) {
        const answer = await get(`/v1/wallet/${alice}/balance`, token);
        assert.equal(answer.status, 401, name);
        assert.equal(answer.body.error.code, 'unauthenticated', name);
      }
      assert.equal(
        (await get(`/v1/wallet/${alice}/balance`, await sign({ iat: now(), exp: now() + 600 }))).status,
        200,
      );
    });

    it('stops accepting a remembered token once it reaches the maximum age', async () => {
      const token = await tokenFor(alice);
      assert.equal((await get(`/v1/wallet/${alice}/balance`, token)).status, 200);
      await sleep(4_200);
      const answer = await get(`/v1/wallet/${alice}/balance`, token);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error.code, 'unauthenticated');
    });
  });

  describe('request rate', () => {
    it('answers 429 rate_limited with Retry-After to the caller over its limit, creating nothing, while other callers are served', async () => {
      const flooder = uniqueName('flood');
      assert.equal((await stack.api.createUser(flooder)).status, 201);
      const token = await tokenFor(flooder);
      for (let request = 0; request < customer_requests_per_window; request++) {
        assert.equal((await get(`/v1/wallet/${flooder}/balance`, token)).status, 200, `request ${request + 1}`);
      }
      const recordsBefore = await transferCount();
      const refused = await fetch(`${stack.baseUrl}/v1/wallet/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from_user_id: flooder,
          to_user_id: bob,
          amount: 1,
          currency: 'USD',
          idempotency_key: uniqueName('k'),
        }),
      });
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as any).error.code, 'rate_limited');
      const retryAfterS = Number(refused.headers.get('retry-after'));
      assert.ok(
        Number.isInteger(retryAfterS) && retryAfterS >= 1 && retryAfterS <= 60,
        `Retry-After ${refused.headers.get('retry-after')}`,
      );
      assert.match(refused.headers.get('ratelimit') ?? '', /remaining=0/);
      assert.equal(await transferCount(), recordsBefore, 'a refused request records nothing');

      // Another customer, and ops, each have their own budget.
      assert.equal((await get(`/v1/wallet/${bob}/balance`, await tokenFor(bob))).status, 200);
      assert.equal((await stack.api.call('GET', `/v1/wallet/${flooder}/balance`, stack.api.ops)).status, 200);
      const metrics = await fetch(`${stack.baseUrl}/metrics`).then((response) => response.text());
      assert.match(metrics, /wallet_http_rate_limited_total\{role="customer"\} [1-9]/);
    });
  });

  describe('open waits', () => {
    it("answers a caller's waits past its bound at once, as a timed-out wait, without holding up another caller's", async () => {
      const token = await tokenFor(alice);
      const timed = async (path: string, asToken: string) => {
        const started = Date.now();
        const answer = await get(path, asToken);
        return { ...answer, ms: Date.now() - started };
      };
      const path = `/v1/wallet/transfers/${heldTransferId}?wait=2`;
      const answers = await Promise.all([
        ...Array.from({ length: waits_per_caller + 1 }, () => timed(path, token)),
        timed(path, await tokenFor(bob)),
      ]);
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(answer.body.status, 'PENDING_REVIEW');
      }
      const quick = answers.filter((answer) => answer.ms < 1_000);
      assert.equal(
        quick.length,
        1,
        `one of alice's waits answers at once: ${answers.map((answer) => answer.ms).join(', ')} ms`,
      );
      assert.ok(answers.at(-1)!.ms >= 1_900, "bob's wait is not cut short");
      assert.deepEqual(stack.waitSlots.stats(), { open: 0, callers: 0 });
    });

    it('ends a wait when its client hangs up', async () => {
      const hangUp = new AbortController();
      const waiting = fetch(`${stack.baseUrl}/v1/wallet/transfers/${heldTransferId}?wait=30`, {
        headers: { authorization: `Bearer ${await tokenFor(bob)}` },
        signal: hangUp.signal,
      });
      await sleep(300);
      assert.equal(stack.waitSlots.stats().open, 1);
      hangUp.abort();
      await assert.rejects(waiting);
      await sleep(200);
      assert.deepEqual(stack.waitSlots.stats(), { open: 0, callers: 0 });
    });

    it('keeps memory, handles and connections flat over 1,000 timed-out waits on a stuck transfer', async (t) => {
      v8.setFlagsFromString('--expose-gc');
      const collectGarbage = vm.runInNewContext('gc') as () => void;
      // 25 ops callers with two waits each: 50 waits of 1 s at a time. Tokens are minted per
      // round because this file's maximum token age is 3 s.
      const waitRound = async () => {
        const callers = await Promise.all(
          Array.from({ length: 25 }, (_, index) => tokenFor(`ops_waiter_${index}`, 'ops')),
        );
        await Promise.all(
          callers.flatMap((token) =>
            Array.from({ length: waits_per_caller }, async () => {
              const answer = await get(`/v1/wallet/transfers/${heldTransferId}?wait=1`, token);
              assert.equal(answer.body.status, 'PENDING_REVIEW');
            }),
          ),
        );
      };
      const measure = async () => {
        // Idle keep-alive sockets (the client's 4 s, the server's 5 s) are not leaks, but how
        // many a round leaves open varies from run to run: count handles once they have closed.
        await sleep(keep_alive_settle_ms);
        collectGarbage();
        const resources = process.getActiveResourcesInfo();
        const sockets = resources.filter((type) => type === 'TCPSocketWrap').length;
        return {
          heapBytes: process.memoryUsage().heapUsed,
          // Sockets apart, with the idle timer each keeps: how many idle keep-alive sockets a round
          // leaves open varies from run to run (10 to 47 seen), and each holds one Timeout.
          handles: resources.length - 2 * sockets,
          sockets,
          poolClients: stack.shards.pools.reduce((sum, pool) => sum + pool.totalCount - pool.idleCount, 0),
        };
      };

      await waitRound(); // warms up connections, JIT and the token cache
      const before = await measure();
      for (let round = 0; round < 20; round++) await waitRound();
      const afterwards = await measure();

      assert.deepEqual(stack.waitSlots.stats(), { open: 0, callers: 0 }, 'no wait is still open');
      assert.equal(afterwards.poolClients, 0, 'no database connection is still in use');
      assert.ok(afterwards.handles <= before.handles + 5, `active handles ${before.handles} → ${afterwards.handles}`);
      // At most one idle keep-alive socket per wait of a round (50) may still be open; a leak of
      // one per request would be a thousand.
      const round_waits = 25 * waits_per_caller;
      assert.ok(
        afterwards.sockets <= before.sockets + round_waits,
        `sockets ${before.sockets} → ${afterwards.sockets}`,
      );
      const grownBytes = afterwards.heapBytes - before.heapBytes;
      t.diagnostic(
        `1,000 waits: heap ${Math.round(before.heapBytes / 1024)} → ${Math.round(afterwards.heapBytes / 1024)} KiB, handles ${before.handles} → ${afterwards.handles}, sockets ${before.sockets} → ${afterwards.sockets}`,
      );
      assert.ok(grownBytes < 4 * 1024 * 1024, `heap grew ${Math.round(grownBytes / 1024)} KiB over 1,000 waits`);
    });
  });
});
