import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { seededRandom } from '../bench/load/prng';
import { onSignedDelivery, type SignedHeaders } from '../scripts/signed-delivery';

/**
 * The run's webhook endpoint (issue 20 §5): a small server in the chaos process that verifies
 * each delivery's signature with the Standard Webhooks library's own verifier (as
 * scripts/webhook-receiver.ts does) and records every arrival in order. It answers 500 to a
 * seeded share of verified deliveries, so the wallet's retries run during the run too.
 */

/** One delivery as it arrived: the wallet, its sequence and the event id, and what it was answered. */
export interface WebhookArrival {
  user_id: string;
  sequence: number;
  event_id: string;
  /** Answered 2xx: the endpoint took it (an answered 500 is a failed attempt the wallet retries). */
  acknowledged: boolean;
  /** When it arrived (Date.now()), for the report's longest pause between deliveries. */
  at_ms: number;
}

/** The share of verified deliveries answered 500, drawn from the run's seed. */
const fail_share = 0.02;

export class ChaosWebhookReceiver {
  private server: Server | undefined;
  private verifier: Webhook | undefined;
  private readonly failNext: () => boolean;
  /** Verified deliveries, in the order they arrived. */
  readonly arrivals: WebhookArrival[] = [];
  /** Deliveries whose signature (or body) did not verify: each is a broken run (the endpoint is the wallet's own). */
  readonly refused: string[] = [];
  url = '';

  constructor(seed: number) {
    const random = seededRandom(seed ^ 0x3eb_400c);
    this.failNext = () => random() < fail_share;
  }

  /** Listens on a free loopback port; url is its address once this resolves. */
  async start(): Promise<void> {
    const server = createServer((request, response) =>
      onSignedDelivery(request, (body, headers) => response.writeHead(this.receive(body, headers)).end()),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wallet-events`;
  }

  /** The endpoint's secret, as its registration answered it; deliveries before it are refused. */
  useSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  private receive(body: string, signed: SignedHeaders): number {
    let event: { id?: unknown; user_id?: unknown; sequence?: unknown };
    try {
      if (!this.verifier) throw new Error('no secret yet');
      event = this.verifier.verify(body, signed) as typeof event;
      if (typeof event.user_id !== 'string' || typeof event.sequence !== 'number' || event.id !== signed['webhook-id'])
        throw new Error('not a wallet event envelope');
    } catch (error) {
      this.refused.push(`${signed['webhook-id'] || '(no id)'}: ${(error as Error).message}`);
      return 400;
    }
    const acknowledged = !this.failNext();
    this.arrivals.push({
      ...{ user_id: event.user_id, sequence: event.sequence, event_id: event.id },
      ...{ acknowledged, at_ms: Date.now() },
    });
    return acknowledged ? 204 : 500;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
