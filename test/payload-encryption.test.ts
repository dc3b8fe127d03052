import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { codec_session_cookie } from '../api/routes/codec';
import { encrypted_encoding } from '../temporal-client/payload-codec';
import { userOnShard } from './support/ledger';
import { startTestStack, test_timings, tokenFor, type TestStack } from './support/stack';
import { connectTemporal, test_data_converter, uniqueName } from './support/temporal';

/**
 * What Temporal keeps of a transfer is ciphertext: its history, read with a client that has no
 * codec (as anyone who reaches the frontend, its database or a history export would), holds no
 * note, user id or amount outside the search attributes. The codec endpoint gives the plaintext
 * back to ops only: a Bearer ops token or the session cookie of its sign-in form.
 */
const ui_origin = 'http://127.0.0.1:8233';
const search_attribute_keys = new Set(['searchAttributes', 'upsertWorkflowSearchAttributesEventAttributes']);

/** Every string and byte string of a history, as text; search attributes (readable on purpose) left out. */
function historyText(value: unknown, texts: string[] = []): string[] {
  if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('latin1'));
  else if (typeof value === 'string') texts.push(value);
  else if (Array.isArray(value)) for (const item of value) historyText(item, texts);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) if (!search_attribute_keys.has(key)) historyText(inner, texts);
  return texts;
}

/** The payloads of a history (Payload objects: a `data` byte string beside a `metadata` map). */
function historyPayloads(value: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(value)) for (const item of value) historyPayloads(item, found);
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const record = value as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && 'data' in record) found.push(record as Payload);
    else
      for (const [key, inner] of Object.entries(record))
        if (!search_attribute_keys.has(key)) historyPayloads(inner, found);
  }
  return found;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('payloads encrypted end to end', () => {
  let stack: TestStack;
  let plainClient: Client;
  let closeTemporal: () => Promise<void>;
  const note = `codec-note-${uniqueName('x')}`;
  let transfer: { id: string; sender: string; recipient: string };
  before(async () => {
    // A short reversal window, so the transfer's workflow ends and its whole history is checked.
    stack = await startTestStack({
      codecCorsOrigins: [ui_origin],
      timings: { ...test_timings, reversalWindowMs: 1_000 },
    });
    const temporal = await connectTemporal();
    // No data converter: the history as the engine stores it.
    plainClient = new Client({ connection: temporal.connection });
    closeTemporal = temporal.close;
    const sender = userOnShard(stack.shards, 0, 'codec_alice');
    const recipient = userOnShard(stack.shards, 2, 'codec_bob');
    for (const user of [sender, recipient]) assert.equal((await stack.api.createUser(user)).status, 201);
    assert.equal((await stack.api.deposit(sender, 50_000)).body.status, 'COMPLETED');
    const sent = await stack.api.transfer(sender, recipient, 12_345, uniqueName('k'), 30, { note });
    assert.equal(sent.body.status, 'COMPLETED', JSON.stringify(sent.body));
    transfer = { id: sent.body.transfer_id, sender, recipient };
    // The answer comes before the workflow's first task is recorded: wait for the whole history.
    await stack.client.workflow.getHandle(transfer.id).result();
  });
  after(async () => {
    await closeTemporal();
    await stack.stop();
  });

  it("keeps the note, the user ids and the amount out of the engine's history", async () => {
    const history = await plainClient.workflow.getHandle(transfer.id).fetchHistory();
    const payloads = historyPayloads(history.events);
    assert.ok(payloads.length >= 3, `expected the input, results and markers' payloads, found ${payloads.length}`);
    // Checked event by event, so a failure names the event that holds the clear payload. Two
    // kinds of marker hold details the SDK's core writes itself, past the codec, with nothing of
    // the transfer: a patch marker (a `patched()` call that meets a signal or update in its first
    // turn: the patch id), and a local activity's record of its attempt (`data`: its sequence,
    // attempt, type and times) beside its result, which does go through the codec. The text
    // check below still covers both.
    const codecPayloadsOf = (event: (typeof history.events & {})[number]) => {
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName === 'core_patch') return [];
      if (marker?.markerName === 'core_local_activity') return historyPayloads(marker.details?.result);
      return historyPayloads(event);
    };
    const events = history.events ?? [];
    assert.ok(
      events.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity'),
      'the history holds the legs (local activities)',
    );
    for (const event of events)
      for (const payload of codecPayloadsOf(event))
        assert.equal(
          Buffer.from(payload.metadata!.encoding!).toString(),
          encrypted_encoding,
          `a payload in the clear in event ${event.eventId} (type ${event.eventType})`,
        );
    const stored = historyText(history.events).join('\n');
    for (const secret of [note, transfer.sender, transfer.recipient, '12345'])
      assert.ok(!stored.includes(secret), `the history shows ${secret}`);
    // The check can fail: decrypted, the same payloads do hold them.
    const decrypted = (await test_data_converter.payloadCodecs![0]!.decode(payloads))
      .map((payload) => Buffer.from(payload.data!).toString())
      .join('\n');
    for (const secret of [note, transfer.sender, transfer.recipient, '12345'])
      assert.ok(decrypted.includes(secret), `the decrypted history lacks ${secret}`);
  });

  async function codec(direction: 'encode' | 'decode', payloads: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${stack.baseUrl}/codec/${direction}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify({ payloads }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  async function encryptedInput() {
    const history = await plainClient.workflow.getHandle(transfer.id).fetchHistory();
    const [input] = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const toJson = (payload: Payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata!).map(([key, value]) => [key, Buffer.from(value!).toString('base64')]),
      ),
      data: Buffer.from(payload.data!).toString('base64'),
    });
    return toJson(input!);
  }

  it('decodes for ops over the codec protocol, and refuses anyone else with 401', async () => {
    const encrypted = await encryptedInput();
    const ops = `Bearer ${await tokenFor('codec_ops', 'ops')}`;
    const decoded = await codec('decode', [encrypted], { authorization: ops });
    assert.equal(decoded.status, 200);
    const text = Buffer.from(decoded.body.payloads[0].data, 'base64').toString();
    assert.ok(text.includes(note) && text.includes(transfer.sender), text);

    const anonymous = await codec('decode', [encrypted]);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'unauthenticated');
    assert.ok(!JSON.stringify(anonymous.body).includes(note));
    const customer = await codec('decode', [encrypted], { authorization: `Bearer ${await tokenFor(transfer.sender)}` });
    assert.equal(customer.status, 403);
    const forged = await codec('decode', [encrypted], { cookie: `${codec_session_cookie}=not.a.token` });
    assert.equal(forged.status, 401);
  });

  it('encodes for ops: what it encrypts decodes back, and plain payloads pass through decode', async () => {
    const ops = { authorization: `Bearer ${await tokenFor('codec_ops', 'ops')}` };
    const plain = { metadata: { encoding: base64('json/plain') }, data: base64('{"reason":"ui signal"}') };
    const encoded = await codec('encode', [plain], ops);
    assert.equal(encoded.status, 200);
    assert.equal(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString(), encrypted_encoding);
    assert.deepEqual((await codec('decode', encoded.body.payloads, ops)).body.payloads, [plain]);
    assert.deepEqual((await codec('decode', [plain], ops)).body.payloads, [plain]);
    assert.equal((await codec('decode', [{ data: 'not base64!' }], ops)).status, 400);
    const forged = { ...encoded.body.payloads[0], data: Buffer.alloc(40, 7).toString('base64') };
    const refused = await codec('decode', [forged], ops);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_request');
  });

  it('signs an operator in with a cookie the browser sends to /codec only, and answers CORS for the UI origin', async () => {
    const customerSignIn = await fetch(`${stack.baseUrl}/codec/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: await tokenFor(transfer.sender) }),
    });
    assert.equal(customerSignIn.status, 403);
    assert.equal(customerSignIn.headers.get('set-cookie'), null);

    const signIn = await fetch(`${stack.baseUrl}/codec/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: await tokenFor('codec_ops', 'ops') }),
    });
    assert.equal(signIn.status, 200);
    const cookie = signIn.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${codec_session_cookie}=`));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/codec/);
    const session = cookie.split(';')[0]!;

    const decoded = await codec('decode', [await encryptedInput()], { cookie: session, origin: ui_origin });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), ui_origin);
    assert.equal(decoded.headers.get('access-control-allow-credentials'), 'true');
    // The cookie is the codec's only: the rest of the API wants a Bearer token.
    const elsewhere = await fetch(`${stack.baseUrl}/v1/ops/transfers`, { headers: { cookie: session } });
    assert.equal(elsewhere.status, 401);

    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const allowed = await preflight(ui_origin);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ui_origin);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    const other = await preflight('http://evil.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const otherDecode = await codec('decode', [], { cookie: session, origin: 'http://evil.example' });
    assert.equal(otherDecode.headers.get('access-control-allow-origin'), null);
  });
});
