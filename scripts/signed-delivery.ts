import type { IncomingMessage } from 'node:http';

/**
 * A webhook delivery as a receiver reads it (scripts/webhook-receiver.ts, the chaos run's
 * chaos/webhook-receiver.ts): its body and the Standard Webhooks headers its verifier takes.
 */

/** The headers Standard Webhooks signs with, as `Webhook.verify` takes them. */
export type SignedHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** A wallet event is a few hundred bytes; anything much larger is not one. */
const body_size_max = 64 * 1024;

/** Reads the request's body (destroying it past body_size_max) and hands it over with its signature headers. */
export function onSignedDelivery(
  request: IncomingMessage,
  handle: (body: string, headers: SignedHeaders) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > body_size_max) request.destroy();
    else chunks.push(chunk);
  });
  request.on('end', () =>
    handle(Buffer.concat(chunks).toString('utf8'), {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    }),
  );
}
