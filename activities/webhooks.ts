import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { ShardSet } from '../db/shards';
import { reference_shard } from '../domain/shard-routing';
import { isRefusedAddress, openSecret, type SealingKey } from '../domain/webhooks';
import type { WebhookDisabledReason, WebhookEventRef } from '../domain/webhook-deliveries';
import {
  drain_start,
  shardDrainSkip,
  shardEventsAfter,
  walletEventsAfter,
  type WalletEvent,
} from '../ledger/wallet-events';
import {
  activeWebhookEndpoints,
  drainCursorOf,
  recordWebhookDelivery,
  saveDrainCursor,
  setWebhookEndpointStatus,
  webhookEndpointOf,
  webhookSecretsOf,
  type WebhookEndpoint,
} from '../ledger/webhooks';

/** Told what deliveries did, for metrics; never throws. */
export interface WebhookEvents {
  attempt(outcome: 'delivered' | 'failed'): void;
  disabled(): void;
  drainFailed(shard: number): void;
  disableFailed(): void;
}

/** Hands events, in order, to an endpoint's delivery workflow (signal-with-start; workers/ builds it). */
export type WebhookEnqueue = (endpointId: string, refs: WebhookEventRef[], replay: boolean) => Promise<void>;

export interface WebhookDependencies {
  shards: ShardSet;
  logger: Logger;
  /** PAYLOAD_KEYS: they open the endpoints' sealed secrets. */
  sealingKeys: readonly SealingKey[];
  enqueue: WebhookEnqueue;
  events: WebhookEvents;
  /** WEBHOOK_ALLOW_PRIVATE: development and tests send to loopback receivers. */
  allowPrivate: boolean;
  /** WEBHOOK_TIMEOUT: one attempt's whole request, connect to last byte read. */
  requestTimeoutMs: number;
  /** How long one drain activity runs before it hands back to its workflow (which continues as new now and then). */
  drainRunMs?: number;
}

/** The dispatcher's cursor row on each shard. */
const drain_name = 'webhooks';
/** An outbox read that found less than a full page is followed by this wait. */
const drain_poll_ms = 200;
/**
 * The wait instead while no endpoint is active: the drain still moves its cursor (a new endpoint
 * hears of events from about its registration on), at a fifth of the reads, over the cursors
 * alone (shardDrainSkip): no event is read that no one would be sent.
 */
const drain_idle_poll_ms = 1_000;
const drain_run_default_ms = 30_000;
const drain_page_max = 200;
/** A delivery's heartbeat while its request is out (its heartbeat timeout is 10 s). */
const delivery_heartbeat_every_ms = 2_000;
/** What is read of an answer's body: nothing of it is used, so a garbage or endless body costs this at most. */
const response_body_read_max_bytes = 4_096;
/** The most an error message in the delivery log holds. */
const error_length_max = 300;

export function createWebhookActivities(deps: WebhookDependencies) {
  const agent = guardedAgent(deps);
  return {
    /** Drains one shard's outbox for a while: each page fanned out to the endpoints it matches, then the cursor saved. */
    async drainWebhookOutbox(input: { shard: number }): Promise<{ events: number }> {
      try {
        return await drainFor(deps, input.shard);
      } catch (error) {
        // The dispatcher retries this without end (a shard down must not end it): each failed
        // attempt is counted and an error line, so a drain that keeps failing is seen, not only in the Web UI.
        deps.events.drainFailed(input.shard);
        deps.logger.error(
          { err: error, shard: input.shard, attempt: Context.current().info.attempt },
          'webhook outbox drain failed; retrying',
        );
        throw error;
      }
    },

    /** One signed POST of one event to one endpoint, recorded in the delivery log. */
    async deliverWebhook(input: {
      endpointId: string;
      ref: WebhookEventRef;
      attempt: number;
      replay: boolean;
    }): Promise<{ outcome: 'delivered' | 'failed' | 'gone' }> {
      const reference = deps.shards.pool(reference_shard);
      const endpoint = await webhookEndpointOf(reference, input.endpointId);
      const secrets = await webhookSecretsOf(reference, input.endpointId);
      if (!endpoint || !secrets || endpoint.status !== 'active') return { outcome: 'gone' };
      const event = await eventOf(deps.shards, input.ref);
      const signers = [secrets.secretSealed, secrets.previousSecretSealed]
        .filter((sealed): sealed is string => sealed !== null)
        .map((sealed) => new Webhook(openSecret(deps.sealingKeys, sealed)));
      const started = performance.now();
      const answer = await whileHeartbeating(() => post(agent, deps, endpoint.url, event, signers));
      const succeeded = answer.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300;
      await recordWebhookDelivery(reference, {
        endpointId: input.endpointId,
        eventId: event.eventId,
        eventType: event.type,
        userId: event.userId,
        sequence: event.sequence,
        attempt: input.attempt,
        replay: input.replay,
        statusCode: answer.statusCode ?? null,
        latencyMs: Math.round(performance.now() - started),
        error: succeeded ? null : (answer.error ?? `answered ${answer.statusCode}`).slice(0, error_length_max),
        succeeded,
      });
      deps.events.attempt(succeeded ? 'delivered' : 'failed');
      return { outcome: succeeded ? 'delivered' : 'failed' };
    },

    /** The endpoint failed for its whole retry budget, or its backlog passed its bound: disabled, counted and logged at error level. */
    async disableWebhookEndpoint(input: { endpointId: string; reason: WebhookDisabledReason }): Promise<void> {
      const changed = await setWebhookEndpointStatus(deps.shards.pool(reference_shard), {
        endpointId: input.endpointId,
        status: 'disabled',
        reason: input.reason,
      }).catch((error: unknown) => {
        // Retried without end (workflows/webhooks.ts disable_options): each failed attempt is
        // counted and an error line, so an endpoint that cannot be disabled is seen.
        deps.events.disableFailed();
        deps.logger.error(
          { err: error, endpoint_id: input.endpointId, reason: input.reason },
          'webhook endpoint could not be disabled; retrying',
        );
        throw error;
      });
      if (!changed) return;
      deps.events.disabled();
      deps.logger.error(
        { endpoint_id: input.endpointId, reason: input.reason },
        'webhook endpoint disabled: nothing is sent to it until it is enabled and replayed',
      );
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;

/**
 * Runs `work` while heartbeating every few seconds: a delivery on a worker that dies is then
 * retried within the delivery's heartbeat timeout (workflows/webhooks.ts), not after its whole
 * start-to-close timeout, while a slow consumer still has all of WEBHOOK_TIMEOUT.
 */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  // A local activity (workflows/webhooks.ts) has no heartbeat: its workflow task is its lease.
  if (context.info.isLocal) return work();
  context.heartbeat();
  const beat = setInterval(() => context.heartbeat(), delivery_heartbeat_every_ms);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** One drain activity's work: pages fanned out to the endpoints they match, the cursor saved after each. */
async function drainFor(deps: WebhookDependencies, shard: number): Promise<{ events: number }> {
  const pool = deps.shards.pool(shard);
  const until = Date.now() + (deps.drainRunMs ?? drain_run_default_ms);
  let events = 0;
  let cursor = (await drainCursorOf(pool, drain_name)) ?? drain_start;
  let endpointsActive = false;
  while (Date.now() < until) {
    Context.current().heartbeat(events);
    if (!endpointsActive) {
      // No endpoint to hand events to: the cursor moves over the next page without reading its
      // events. The endpoints are asked after the page, as a fan-out asks them: one made before
      // the page was read gets the page, read in full below from the same cursor.
      const skipped = await shardDrainSkip(pool, { after: cursor, limit: drain_page_max });
      endpointsActive = (await activeWebhookEndpoints(deps.shards.pool(reference_shard))).length > 0;
      if (!endpointsActive) {
        if (skipped) {
          cursor = skipped.cursor;
          await saveDrainCursor(pool, drain_name, cursor);
          events += skipped.events;
        }
        if ((skipped?.events ?? 0) < drain_page_max) await Context.current().sleep(drain_idle_poll_ms);
        continue;
      }
    }
    const page = await shardEventsAfter(pool, { after: cursor, limit: drain_page_max });
    if (page.length > 0) {
      endpointsActive = (await fanOut(deps, page)) > 0;
      cursor = page.at(-1)!.cursor;
      // Saved only once every event of the page was handed over: a crash in between hands
      // them over again (at least once; the delivery workflow drops what it already sent).
      await saveDrainCursor(pool, drain_name, cursor);
      events += page.length;
    }
    // A short page means the drain has caught up: it waits a poll before reading again, so a
    // steady stream of commits costs a few reads a second, not three queries per commit.
    if (page.length < drain_page_max)
      await Context.current().sleep(endpointsActive ? drain_poll_ms : drain_idle_poll_ms);
  }
  return { events };
}

/**
 * Each active endpoint gets, in one signal, the page's events it subscribes to, in drain order
 * (so in sequence order per wallet). Answers how many endpoints are active.
 */
async function fanOut(deps: WebhookDependencies, page: WalletEvent[]): Promise<number> {
  const endpoints = await activeWebhookEndpoints(deps.shards.pool(reference_shard));
  for (const endpoint of endpoints) {
    const refs = page.filter((event) => subscribes(endpoint, event)).map(refOf);
    if (refs.length > 0) await deps.enqueue(endpoint.endpointId, refs, false);
  }
  return endpoints.length;
}

function subscribes(endpoint: WebhookEndpoint, event: WalletEvent): boolean {
  return (
    endpoint.eventTypes.includes(event.type) && (endpoint.wallets === null || endpoint.wallets.includes(event.userId))
  );
}

function refOf(event: Pick<WalletEvent, 'userId' | 'sequence'>): WebhookEventRef {
  return { userId: event.userId, sequence: event.sequence.toString() };
}

async function eventOf(shards: ShardSet, ref: WebhookEventRef): Promise<WalletEvent> {
  const [event] = await walletEventsAfter(shards.pool(shards.shardOf(ref.userId)), {
    userId: ref.userId,
    afterSequence: BigInt(ref.sequence) - 1n,
    limit: 1,
  });
  if (!event || event.sequence !== BigInt(ref.sequence))
    throw new Error(`event ${ref.userId}/${ref.sequence} is not in its shard's outbox`);
  return event;
}

/**
 * The POST: signed with every current secret (two during a rotation, space-separated as
 * Standard Webhooks allows), no redirect followed (undici's request never follows one), the
 * answer's body read up to a few KiB, everything within the request timeout. A failure of any
 * kind is an answer with an error, never a throw: the workflow decides about retries.
 */
async function post(
  agent: Agent,
  deps: WebhookDependencies,
  url: string,
  event: WalletEvent,
  signers: Webhook[],
): Promise<{ statusCode?: number; error?: string }> {
  const refused = refusedLiteral(deps, url);
  if (refused) return { error: refused };
  const timestamp = new Date();
  const signature = signers.map((signer) => signer.sign(event.eventId, timestamp, event.json)).join(' ');
  try {
    const answer = await request(url, {
      method: 'POST',
      dispatcher: agent,
      signal: AbortSignal.timeout(deps.requestTimeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'wallet-webhooks/1',
        'webhook-id': event.eventId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: event.json,
    });
    await answer.body.dump({ limit: response_body_read_max_bytes }).catch(() => undefined);
    return { statusCode: answer.statusCode };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** An IP literal is connected to without a lookup, so it is checked here. */
function refusedLiteral(deps: WebhookDependencies, url: string): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (deps.allowPrivate || isIP(host) === 0 || !isRefusedAddress(host)) return undefined;
  return `refused address ${host} (loopback, private, link-local or reserved)`;
}

/**
 * One connection pool for every endpoint. Its lookup resolves the host and refuses the
 * connection when any address is loopback, private, link-local or reserved; the connection is
 * then made to exactly the addresses checked, so a DNS answer that changes between a check and
 * the connect (rebinding) cannot slip through. Connections per endpoint origin are bounded.
 */
function guardedAgent(deps: WebhookDependencies): Agent {
  return new Agent({
    connections: 4,
    headersTimeout: deps.requestTimeoutMs,
    bodyTimeout: deps.requestTimeoutMs,
    connect: {
      timeout: deps.requestTimeoutMs,
      lookup: (hostname, options, callback) => {
        lookup(hostname, { all: true }, (error, addresses: LookupAddress[]) => {
          if (error) return callback(error, '', 0);
          const bad = addresses.find((address) => isRefusedAddress(address.address));
          if (bad && !deps.allowPrivate)
            return callback(new Error(`refused address ${bad.address} of ${hostname}`), '', 0);
          if ((options as { all?: boolean }).all)
            return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
          callback(null, addresses[0]!.address, addresses[0]!.family);
        });
      },
    },
  });
}
