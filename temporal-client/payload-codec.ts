import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';

/** One AES-256 key and the id written beside every payload it encrypted. */
export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** The metadata `encoding` of a payload this codec encrypted; any other encoding is passed through on decode. */
export const encrypted_encoding = 'binary/encrypted';
/** The metadata key naming which key encrypted a payload. */
export const key_id_metadata = 'encryption-key-id';

const iv_bytes = 12;
const tag_bytes = 16;
const key_bytes = 32;
const text = new TextEncoder();
const untext = new TextDecoder('utf-8', { fatal: true });

/**
 * Encrypts every payload (workflow and activity inputs and results, signal, query and update
 * arguments, failures' details) before it leaves the process, with AES-256-GCM under the newest
 * key, and decrypts with whichever key a payload names. Temporal's history, its database and a
 * history export then hold only ciphertext; search attributes are not payloads and stay readable
 * (README, "What the engine can read"). A payload without the encrypted encoding (histories of
 * workflows started before the codec, a signal sent from the CLI without it) is passed through
 * as it is, so old workflows keep running. The key id is also the GCM's associated data: a
 * payload relabelled with another key's id fails its check instead of decrypting as garbage.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: PayloadKey;
  private readonly byId: ReadonlyMap<string, Uint8Array>;

  /** `keys` newest first: the first encrypts, all of them decrypt. */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    for (const { id, key } of keys)
      if (key.length !== key_bytes) throw new Error(`payload key ${id} must be ${key_bytes} bytes, not ${key.length}`);
    this.current = keys[0]!;
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(iv_bytes);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(text.encode(this.current.id));
    const sealed = Buffer.concat([iv, cipher.update(serializePayload(payload)), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: text.encode(encrypted_encoding), [key_id_metadata]: text.encode(this.current.id) },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || untext.decode(encoding) !== encrypted_encoding) return payload;
    const idBytes = payload.metadata?.[key_id_metadata];
    const id = idBytes ? untext.decode(idBytes) : '(none)';
    const key = this.byId.get(id);
    if (!key) throw new Error(`payload is encrypted with key "${id}", which is not among PAYLOAD_KEYS`);
    const sealed = payload.data ?? new Uint8Array();
    if (sealed.length < iv_bytes + tag_bytes) throw new Error(`encrypted payload (key "${id}") is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, iv_bytes));
    decipher.setAAD(text.encode(id));
    decipher.setAuthTag(sealed.subarray(sealed.length - tag_bytes));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(iv_bytes, sealed.length - tag_bytes)),
      decipher.final(),
    ]);
    return deserializePayload(plain);
  }
}

/** The data converter every wallet client and worker uses: the default payload converter, then this codec. */
export function walletDataConverter(keys: readonly PayloadKey[]): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keys)] };
}

/**
 * A payload as bytes: the number of metadata entries, then each key and value, then the data,
 * every part prefixed by its length (uint32 big-endian). Smaller and simpler than a protobuf
 * encoder, which the wallet would otherwise take from a package it does not depend on.
 */
function serializePayload(payload: Payload): Buffer {
  const parts: Uint8Array[] = [];
  const entries = Object.entries(payload.metadata ?? {});
  parts.push(uint32(entries.length));
  for (const [key, value] of entries) {
    const keyBytes = text.encode(key);
    parts.push(uint32(keyBytes.length), keyBytes, uint32(value?.length ?? 0), value ?? new Uint8Array());
  }
  // A completion's empty payload (a workflow's `undefined` result, binary/null) can arrive as a
  // plain empty array from the SDK's protobuf objects; Buffer.concat takes only byte arrays.
  const data = payload.data instanceof Uint8Array ? payload.data : Uint8Array.from(payload.data ?? []);
  parts.push(uint32(data.length), data);
  return Buffer.concat(parts);
}

function deserializePayload(bytes: Buffer): Payload {
  let offset = 0;
  const take = () => {
    const length = bytes.readUInt32BE(offset);
    const part = bytes.subarray(offset + 4, offset + 4 + length);
    if (part.length !== length) throw new Error('decrypted payload is malformed');
    offset += 4 + length;
    return part;
  };
  const count = bytes.readUInt32BE(offset);
  offset += 4;
  const metadata: Record<string, Uint8Array> = {};
  for (let index = 0; index < count; index++) {
    const key = untext.decode(take());
    metadata[key] = new Uint8Array(take());
  }
  const data = new Uint8Array(take());
  if (offset !== bytes.length) throw new Error('decrypted payload is malformed');
  return { metadata, data };
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}
