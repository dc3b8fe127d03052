import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { signToken } from '../../api/auth';
import { actionTokenKeys, issueActionToken, verifyActionToken } from '../../domain/action-tokens';
import { normalizeOperator, operator_length_max, operatorIdentity, operator_unverified } from '../../domain/operators';

describe('operator identities', () => {
  it('makes one identity of every spelling of one name', () => {
    for (const spelling of ['alice', 'ALICE', 'Alice', ' alice ', 'ａｌｉｃｅ', 'ＡＬＩＣＥ', 'alice\u00a0'])
      assert.equal(normalizeOperator(spelling), 'alice', JSON.stringify(spelling));
    assert.equal(normalizeOperator('Straße'), normalizeOperator('STRASSE'));
    assert.equal(normalizeOperator('ﬁnance'), 'finance');
    assert.equal(normalizeOperator('Jane   Doe'), 'jane doe');
    // Normalizing twice changes nothing.
    for (const name of ['Straße', 'İstanbul', 'ΣΊΣΥΦΟΣ', 'ａｌｉｃｅ'])
      assert.equal(normalizeOperator(normalizeOperator(name)), normalizeOperator(name), name);
  });

  it('refuses invisible, control, private-use and unassigned characters instead of dropping them', () => {
    for (const hidden of [
      'alice\u200b', // zero-width space
      'al\u200dice', // zero-width joiner
      'al\u200cice', // zero-width non-joiner
      'alice\u202e', // right-to-left override
      'al\u00adice', // soft hyphen
      '\ufeffalice', // byte order mark
      'alice\ufe0f', // variation selector
      'alice\u0000',
      'alice\n',
      'alice\u2028',
      'alice\ue000', // private use
      'alice\u{e0061}', // tag character
      'alice\u0378', // unassigned
      'alice\u3164', // Hangul filler
    ]) {
      const identity = operatorIdentity(hidden);
      assert.equal(identity.ok, false, JSON.stringify(hidden));
      assert.match((identity as { why: string }).why, /invisible or unassigned/, JSON.stringify(hidden));
    }
    assert.equal(operatorIdentity('alice\ud800').ok, false);
    assert.equal(operatorIdentity('   ').ok, false);
    assert.equal(operatorIdentity('').ok, false);
    assert.equal(operatorIdentity(42).ok, false);
  });

  it('checks the length on the normalized form: 128 characters with one "İ" are 129, refused', () => {
    const name = `${'a'.repeat(operator_length_max - 1)}İ`;
    assert.equal([...name].length, operator_length_max);
    const identity = operatorIdentity(name);
    assert.deepEqual(identity, {
      ok: false,
      why: 'the operator is 129 characters once normalized (NFKC and case fold); at most 128',
    });
    assert.throws(() => normalizeOperator(name), /129 characters once normalized/);
    assert.equal(normalizeOperator('a'.repeat(operator_length_max)).length, operator_length_max);
    // A name that grows past the raw bound is refused before it is normalized.
    assert.equal(operatorIdentity('\ufdfa'.repeat(600)).ok, false);
  });

  it('keeps the audit marker of an unverified sender out of reach of any operator', () => {
    assert.equal(operatorIdentity(operator_unverified).ok, false);
    assert.equal(operatorIdentity('(UNVERIFIED)').ok, false);
  });
});

describe('action tokens', () => {
  const keys = actionTokenKeys('unit-test-secret-0123456789-0123456789', 600);
  const check = { action: 'approve' as const, transferId: 'tr_a' };

  it('answers the normalized operator of a token for this action on this transfer', async () => {
    const { token, operator } = await issueActionToken(keys, { operator: 'ＡＬＩＣＥ', ...check });
    assert.equal(operator, 'alice');
    const verdict = await verifyActionToken(keys, { token, ...check });
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      { ...verdict, tokenId: undefined },
      {
        ok: true,
        operator: 'alice',
        allowNegative: false,
        tokenId: undefined,
      },
    );
  });

  it('refuses a token for another transfer or another action, naming who sent it', async () => {
    const { token } = await issueActionToken(keys, { operator: 'alice', ...check });
    assert.deepEqual(await verifyActionToken(keys, { token, action: 'approve', transferId: 'tr_b' }), {
      ok: false,
      refusal: 'action_token_mismatch',
      message: 'the action token is for another transfer',
      operator: 'alice',
    });
    const reversing = await verifyActionToken(keys, { token, action: 'reverse', transferId: 'tr_a' });
    assert.deepEqual([reversing.ok, (reversing as { refusal: string }).refusal], [false, 'action_token_mismatch']);
  });

  it('refuses forged, tampered, expired, too old and bearer tokens', async () => {
    const other = actionTokenKeys('another-secret-0123456789-0123456789-01', 600);
    const forged = (await issueActionToken(other, { operator: 'alice', ...check })).token;
    const real = (await issueActionToken(keys, { operator: 'alice', ...check })).token;
    const [header, , signature] = real.split('.');
    const claims = { sub: 'mallory', act: 'approve', tid: 'tr_a', aud: 'wallet-ops-action', jti: 'x' };
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, iat: 1, exp: 9e9 })).toString('base64url')}.${signature}`;
    const expired = (await issueActionToken({ ...keys, ttlS: -1 }, { operator: 'bob', ...check })).token;
    const nowS = Math.floor(Date.now() / 1000);
    const tooOld = await new SignJWT({ act: 'approve', tid: 'tr_a' })
      .setProtectedHeader({ alg: 'HS256', typ: 'wallet-action+jwt' })
      .setSubject('carol')
      .setAudience('wallet-ops-action')
      .setJti('old')
      .setIssuedAt(nowS - 3_600)
      .setExpirationTime(nowS + 3_600)
      .sign(keys.key);
    const bearer = await signToken('unit-test-secret-0123456789-0123456789', { userId: 'alice', role: 'ops' });
    const refusals = [];
    for (const token of [forged, tampered, expired, tooOld, 'not.a.token', bearer])
      refusals.push(await verifyActionToken(keys, { token, ...check }));
    assert.deepEqual(
      refusals.map((verdict) => (verdict.ok ? 'ok' : `${verdict.refusal}:${verdict.operator}`)),
      [
        'action_token_invalid:null',
        'action_token_invalid:null',
        'action_token_expired:bob',
        'action_token_expired:carol',
        'action_token_invalid:null',
        'action_token_invalid:null',
      ],
    );
    assert.equal((await verifyActionToken(undefined, { token: real, ...check })).ok, false);
  });

  it('refuses a signed token whose operator is not a valid identity, and will not issue one', async () => {
    const name = `${'a'.repeat(127)}İ`;
    await assert.rejects(issueActionToken(keys, { operator: name, ...check }), /129 characters once normalized/);
    const nowS = Math.floor(Date.now() / 1000);
    const signed = await new SignJWT({ act: 'approve', tid: 'tr_a' })
      .setProtectedHeader({ alg: 'HS256', typ: 'wallet-action+jwt' })
      .setSubject(name)
      .setAudience('wallet-ops-action')
      .setJti('i')
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 60)
      .sign(keys.key);
    const verdict = await verifyActionToken(keys, { token: signed, ...check });
    assert.deepEqual([verdict.ok, (verdict as { refusal: string }).refusal], [false, 'operator_invalid']);
  });
});
