import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, parseConfig } from '../../config';
import { AesGcmPayloadCodec, encrypted_encoding, key_id_metadata } from '../../temporal-client/payload-codec';

const older = { id: 'k1', key: new Uint8Array(randomBytes(32)) };
const newer = { id: 'k2', key: new Uint8Array(randomBytes(32)) };
const secret = { transferId: 'tr_1', fromUserId: 'alice_codec', note: 'rent for flat 4B', amountMinor: '123456' };

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const plain = (): Payload => defaultPayloadConverter.toPayload(secret);

describe('the payload codec (AES-256-GCM)', () => {
  it('encrypts under the newest key, names it, and reads the payload back exactly', async () => {
    const codec = new AesGcmPayloadCodec([newer, older]);
    const [encoded] = await codec.encode([plain()]);
    assert.equal(text(encoded!.metadata!.encoding), encrypted_encoding);
    assert.equal(text(encoded!.metadata![key_id_metadata]), 'k2');
    for (const value of Object.values(secret))
      assert.ok(!text(encoded!.data).includes(value), `ciphertext shows ${value}`);
    const [decoded] = await codec.decode([encoded!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), secret);
    assert.deepEqual(decoded, plain());
  });

  it('uses a fresh IV every time: the same payload never encrypts to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec([newer]);
    const [first, second] = await codec.encode([plain(), plain()]);
    assert.notDeepEqual(first!.data, second!.data);
  });

  it('still reads payloads under an older key after a rotation, and refuses an unknown key clearly', async () => {
    const [underOld] = await new AesGcmPayloadCodec([older]).encode([plain()]);
    const rotated = new AesGcmPayloadCodec([newer, older]);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([underOld!]))[0]!), secret);
    const [underNew] = await rotated.encode([plain()]);
    await assert.rejects(
      new AesGcmPayloadCodec([older]).decode([underNew!]),
      /encrypted with key "k2", which is not among PAYLOAD_KEYS/,
    );
  });

  it('refuses a payload that was altered or relabelled with another key id', async () => {
    const codec = new AesGcmPayloadCodec([newer, older]);
    const [encoded] = await codec.encode([plain()]);
    const flipped = new Uint8Array(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await assert.rejects(codec.decode([{ ...encoded!, data: flipped }]), /authenticate/);
    const relabelled = { ...encoded!, metadata: { ...encoded!.metadata, [key_id_metadata]: Buffer.from('k1') } };
    await assert.rejects(codec.decode([relabelled]), /authenticate/);
  });

  it('passes plain payloads through on decode (histories from before the codec)', async () => {
    const codec = new AesGcmPayloadCodec([newer]);
    assert.deepEqual(await codec.decode([plain()]), [plain()]);
  });
});

describe('PAYLOAD_KEYS', () => {
  const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');

  it('reads id:base64 entries newest first', () => {
    const settings = parseConfig({ PAYLOAD_KEYS: `new:${key(2)}, old:${key(1)}` });
    assert.deepEqual(
      settings.payloadKeys.map(({ id, key: bytes }) => [id, bytes[0]]),
      [
        ['new', 2],
        ['old', 1],
      ],
    );
    assert.equal(settings.usesDevPayloadKey, false);
  });

  it('refuses keys of the wrong size, bad ids and a repeated id', () => {
    assert.throws(() => parseConfig({ PAYLOAD_KEYS: `k:${Buffer.alloc(16).toString('base64')}` }), ConfigError);
    assert.throws(() => parseConfig({ PAYLOAD_KEYS: `bad id:${key(1)}` }), ConfigError);
    assert.throws(() => parseConfig({ PAYLOAD_KEYS: `k:${key(1)},k:${key(2)}` }), /same key id twice/);
  });

  it('keeps the public development key on this machine only', () => {
    assert.equal(parseConfig({}).usesDevPayloadKey, true);
    assert.doesNotThrow(() => parseConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }));
    assert.throws(() => parseConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }), /PAYLOAD_KEYS must be set/);
    assert.throws(() => parseConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(40) }), /PAYLOAD_KEYS must be set/);
    assert.doesNotThrow(() =>
      parseConfig({ HOST: '0.0.0.0', AUTH_SECRET: 'x'.repeat(40), PAYLOAD_KEYS: `k:${key(1)}` }),
    );
  });
});
