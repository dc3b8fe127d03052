import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { actionTokenKeys, issueActionToken } from '../domain/action-tokens';
import type { TransferOpsAction } from '../domain/operators';
import { driftedAccounts, userOnShard } from './support/ledger';
import {
  actionTokenFor,
  startTestStack,
  test_action_tokens,
  test_limits,
  test_timings,
  type TestStack,
} from './support/stack';
import { uniqueName } from './support/temporal';

/**
 * Operators are proven, not typed (issue 17): every request to a transfer carries an action
 * token the workflow has verified by a local activity, and names are one identity per person.
 * Each attack below is refused, audited as `refused`, and moves nothing.
 */
describe('operators proven, not typed', () => {
  let stack: TestStack;
  const ops = (operator: string) => ({ as: operator, role: 'ops' as const });
  const name_129 = `${'a'.repeat(127)}İ`;

  before(async () => {
    stack = await startTestStack({
      timings: { ...test_timings, reversalWindowMs: 120_000, reviewTimeoutMs: 120_000 },
      limits: { ...test_limits, reviewThresholdMinor: 10_000n, fourEyesThresholdMinor: 50_000n },
    });
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  async function funded(shard: number, amount: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'pf');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) assert.equal((await stack.api.deposit(userId, amount)).body.status, 'COMPLETED');
    return userId;
  }
  async function held(amount: number): Promise<{ id: string; from: string; to: string }> {
    const from = await funded(0, amount);
    const to = await funded(1, 0);
    const answer = await stack.api.transfer(from, to, amount, uniqueName('k'), 0);
    assert.equal(answer.body.status, 'PENDING_REVIEW');
    return { id: answer.body.transfer_id, from, to };
  }
  const signal = (id: string, name: string, input: object) => stack.client.workflow.getHandle(id).signal(name, input);
  const token = (operator: string, action: TransferOpsAction, transferId: string) =>
    actionTokenFor({ operator, action, transferId });
  const status = async (id: string) =>
    (await stack.client.workflow.getHandle(id).query('status')) as {
      status: string;
      ignoredSignals: { name: string; why: string }[];
      review: { approvals: { operator: string }[] } | null;
    };
  /**
   * Waits until the workflow has refused `count` signals, and answers their codes, sorted: the
   * tokens of signals sent together are verified at once, so they may finish in any order.
   */
  async function refusedSignals(id: string, count: number): Promise<string[]> {
    const deadline = Date.now() + 60_000; // generous: the suite may share two cores with other files
    for (;;) {
      const ignored = (await status(id)).ignoredSignals;
      if (ignored.length >= count) return ignored.map((entry) => entry.why.split(':')[0]!).sort();
      if (Date.now() > deadline) throw new Error(`expected ${count} refused signals, have ${JSON.stringify(ignored)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  /** The transfer's `refused` audit rows (operator, refusal, channel), sorted. */
  async function refusals(id: string): Promise<string[]> {
    const entries = (await stack.api.call('GET', `/v1/ops/audit?target=${id}&action=refused`, stack.api.ops)).body
      .entries as { operator: string; via: string; details: { refusal: string } }[];
    return entries.map((entry) => `${entry.operator}:${entry.details.refusal}:${entry.via}`).sort();
  }
  /** A token signed with the suite's key whose claims the test chooses (the issuer refuses such names). */
  async function signedWith(claims: { sub: string; act: string; tid: string }, key = test_action_tokens.key) {
    const nowS = Math.floor(Date.now() / 1000);
    return new SignJWT({ act: claims.act, tid: claims.tid })
      .setProtectedHeader({ alg: 'HS256', typ: 'wallet-action+jwt' })
      .setSubject(claims.sub)
      .setAudience('wallet-ops-action')
      .setJti(uniqueName('jti'))
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 60)
      .sign(key);
  }

  it('counts one operator once under every spelling, by signal and over HTTP', async () => {
    const { id, from, to } = await held(50_000);
    await signal(id, 'approve', { token: await token('alice', 'approve', id), reason: 'checked' });
    await signal(id, 'approve', { token: await token('ALICE', 'approve', id), reason: 'again' });
    await signal(id, 'approve', { token: await token('ａｌｉｃｅ', 'approve', id), reason: 'again' });
    const hidden = await signedWith({ sub: 'alice\u200b', act: 'approve', tid: id });
    await signal(id, 'approve', { token: hidden, reason: 'again, invisibly' });
    assert.deepEqual(await refusedSignals(id, 3), [
      'operator_invalid',
      'second_approver_required',
      'second_approver_required',
    ]);
    const overHttp = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
      ...ops('Alice'),
      body: { reason: 'me again' },
    });
    assert.deepEqual([overHttp.status, overHttp.body.error.code], [409, 'second_approver_required']);
    const invisible = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
      ...ops('alice\u200b'),
      body: { reason: 'me again' },
    });
    assert.deepEqual([invisible.status, invisible.body.error.code], [401, 'unauthenticated']);

    const state = await status(id);
    assert.deepEqual(
      [state.status, state.review!.approvals.map((approval) => approval.operator)],
      ['PENDING_REVIEW', ['alice']],
    );
    assert.deepEqual([await stack.api.balance(from), await stack.api.balance(to)], [50_000, 0]);
    assert.deepEqual(await refusals(id), [
      '(unverified):operator_invalid:signal',
      'alice:second_approver_required:signal',
      'alice:second_approver_required:signal',
      'alice:second_approver_required:update',
    ]);
    // A second person, with a token from the HTTP endpoint, releases it.
    const issued = await stack.api.call('POST', `/v1/ops/transfers/${id}/action-tokens`, {
      ...ops('Bob'),
      body: { action: 'approve' },
    });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    assert.deepEqual([issued.body.operator, issued.body.action, issued.body.transfer_id], ['bob', 'approve', id]);
    await signal(id, 'approve', { token: issued.body.token, reason: 'second pair of eyes' });
    await waitFor(async () => (await status(id)).status === 'COMPLETED');
    assert.equal(await stack.api.balance(to), 50_000);
  });

  it('refuses a token for transfer A on B, an approve token used to reverse, and a token used twice', async () => {
    const a = await held(20_000);
    const b = await held(20_000);
    await signal(b.id, 'approve', { token: await token('ops_a', 'approve', a.id), reason: 'wrong transfer' });
    assert.deepEqual(await refusedSignals(b.id, 1), ['action_token_mismatch']);
    assert.equal((await status(b.id)).status, 'PENDING_REVIEW');
    assert.deepEqual(await refusals(b.id), ['ops_a:action_token_mismatch:signal']);

    const approveA = await token('ops_a', 'approve', a.id);
    await signal(a.id, 'approve', { token: approveA, reason: 'fine' });
    await waitFor(async () => (await status(a.id)).status === 'COMPLETED');
    // The approve token, seen in the history, cannot reverse, nor approve again.
    await signal(a.id, 'reverse', { token: approveA, reason: 'take it back' });
    await signal(a.id, 'approve', { token: approveA, reason: 'replayed' });
    // Nor can a reverse token be stretched to overdraw the recipient.
    await signal(a.id, 'reverse', { token: await token('ops_a', 'reverse', a.id), reason: 'x', allow_negative: true });
    assert.deepEqual(await refusedSignals(a.id, 3), [
      'action_token_mismatch',
      'action_token_mismatch',
      'action_token_used',
    ]);
    const reverseA = await token('ops_r', 'reverse', a.id);
    await signal(a.id, 'reverse', { token: reverseA, reason: 'dispute' });
    await waitFor(async () => (await status(a.id)).status === 'REVERSED');
    assert.deepEqual([await stack.api.balance(a.from), await stack.api.balance(a.to)], [20_000, 0]);
    assert.deepEqual([await stack.api.balance(b.from), await stack.api.balance(b.to)], [20_000, 0]);
    assert.deepEqual(await refusals(a.id), [
      'ops_a:action_token_mismatch:signal',
      'ops_a:action_token_mismatch:signal',
      'ops_a:action_token_used:signal',
    ]);
  });

  it('refuses a reverse token sent again after its reversal was refused', async () => {
    const alice = await funded(2, 3_000);
    const bob = await funded(3, 0);
    const carol = await funded(0, 0);
    const id = (await stack.api.transfer(alice, bob, 2_000)).body.transfer_id;
    assert.equal((await stack.api.transfer(bob, carol, 1_500)).body.status, 'COMPLETED');
    const reverse = await token('ops_r', 'reverse', id);
    await signal(id, 'reverse', { token: reverse, reason: 'fraud' });
    await waitFor(async () => (await status(id)).status === 'COMPLETED' && (await refusalsOf(id)) === 1);
    // Bob has the money again: the same token, seen in the history, must not take it now.
    await stack.api.deposit(bob, 5_000);
    await signal(id, 'reverse', { token: reverse, reason: 'fraud' });
    assert.deepEqual(await refusedSignals(id, 1), ['action_token_used']);
    assert.equal((await status(id)).status, 'COMPLETED');
    assert.deepEqual([await stack.api.balance(alice), await stack.api.balance(bob)], [1_000, 5_500]);
    assert.deepEqual(await refusals(id), ['ops_r:action_token_used:signal']);
  });
  const refusalsOf = async (id: string) =>
    ((await stack.client.workflow.getHandle(id).query('status')) as { reversalRefusals: unknown[] }).reversalRefusals
      .length;

  it('refuses expired, forged, tampered and missing tokens, and the 129-character "İ" name', async () => {
    const { id, from, to } = await held(20_000);
    const grant = { operator: 'ops_late', action: 'approve' as const, transferId: id };
    const expired = (await issueActionToken({ ...test_action_tokens, ttlS: -1 }, grant)).token;
    const forged = await signedWith(
      { sub: 'ops_boss', act: 'approve', tid: id },
      actionTokenKeys('not-the-wallet-secret-0123456789-0123456789', 600).key,
    );
    const genuine = await token('ops_x', 'approve', id);
    const [header, , signature] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(genuine.split('.')[1]!, 'base64url').toString()) as object;
    const tampered = [
      header,
      Buffer.from(JSON.stringify({ ...claims, sub: 'ops_boss' })).toString('base64url'),
      signature,
    ].join('.');
    const long = await signedWith({ sub: name_129, act: 'approve', tid: id });
    for (const input of [
      { token: expired, reason: 'late' },
      { token: forged, reason: 'forged' },
      { token: tampered, reason: 'tampered' },
      { operator: 'ops_boss', reason: 'typed, as before action tokens' },
      { token: long, reason: 'long name' },
    ])
      await signal(id, 'approve', input);
    assert.deepEqual(await refusedSignals(id, 5), [
      'action_token_expired',
      'action_token_invalid',
      'action_token_invalid',
      'action_token_required',
      'operator_invalid',
    ]);
    assert.deepEqual(await refusals(id), [
      '(unverified):action_token_invalid:signal',
      '(unverified):action_token_invalid:signal',
      '(unverified):action_token_required:signal',
      '(unverified):operator_invalid:signal',
      'ops_late:action_token_expired:signal',
    ]);
    // Over HTTP the same name is refused at the door, before it can reach a transfer or the database.
    for (const path of [`/v1/ops/transfers/${id}/approve`, `/v1/ops/transfers/${id}/action-tokens`]) {
      const answer = await stack.api.call('POST', path, { ...ops(name_129), body: { reason: 'x', action: 'approve' } });
      assert.equal(answer.status, 401);
      assert.match(answer.body.error.message, /129 characters once normalized/);
    }
    const state = await status(id);
    assert.deepEqual([state.status, state.review!.approvals], ['PENDING_REVIEW', []]);
    assert.deepEqual([await stack.api.balance(from), await stack.api.balance(to)], [20_000, 0]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
