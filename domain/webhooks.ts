import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/**
 * Webhooks' pure rules (issue 20 §2, README "Webhooks"): endpoint ids and secrets, how a secret
 * is sealed at rest, which addresses an endpoint may never reach, and the retry schedule.
 */

export const webhook_endpoint_id_pattern = /^we_[0-9a-f]{32}$/;

export function newWebhookEndpointId(): string {
  return `we_${randomBytes(16).toString('hex')}`;
}

/** A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes (the standardwebhooks library's format). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** One AES-256 key and its id: the PAYLOAD_KEYS entries, which also seal webhook secrets. */
export interface SealingKey {
  id: string;
  key: Uint8Array;
}

const iv_bytes = 12;
const sealed_prefix = 'v1';

/**
 * A secret sealed with AES-256-GCM under the newest key: `v1.<key id>.<base64 iv+ciphertext+tag>`.
 * The key id is the associated data, as in the payload codec, so a relabelled secret fails.
 */
export function sealSecret(keys: readonly SealingKey[], secret: string): string {
  const { id, key } = keys[0]!;
  const iv = randomBytes(iv_bytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(id));
  const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${sealed_prefix}.${id}.${sealed.toString('base64')}`;
}

export function openSecret(keys: readonly SealingKey[], sealed: string): string {
  const [prefix, id = '', body = ''] = sealed.split('.');
  const key = keys.find((candidate) => candidate.id === id)?.key;
  if (prefix !== sealed_prefix || !key)
    throw new Error(`a webhook secret is sealed with key "${id}", not among PAYLOAD_KEYS`);
  const bytes = Buffer.from(body, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, iv_bytes));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(iv_bytes, bytes.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

/**
 * Addresses no endpoint may reach unless WEBHOOK_ALLOW_PRIVATE: loopback, private, link-local
 * (the cloud metadata service at 169.254.169.254 among them), carrier-grade NAT, unspecified,
 * multicast and reserved ranges, IPv6's equivalents, and IPv4 mapped into IPv6.
 */
const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  refused.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const)
  refused.addSubnet(network, prefix, 'ipv6');

/** Whether an endpoint may never be sent to this IP address (literal, v4 or v6). */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isRefusedAddress(mapped[1]!);
    return refused.check(address, 'ipv6');
  }
  return refused.check(address, 'ipv4');
}

/** Why a URL cannot be an endpoint (before any lookup), or undefined when its shape is fine. */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http or https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '') return 'must not have a fragment';
  if (text.length > webhook_url_length_max) return `must be at most ${webhook_url_length_max} characters`;
  return undefined;
}

export const webhook_url_length_max = 2_048;
