import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Router, type Request } from 'express';
import type { ShardSet } from '../../db/shards';
import { reference_shard } from '../../domain/shard-routing';
import { wallet_event_types, wallet_events_page_max } from '../../domain/wallet-events';
import {
  isRefusedAddress,
  newWebhookEndpointId,
  newWebhookSecret,
  sealSecret,
  webhookUrlProblem,
  type SealingKey,
} from '../../domain/webhooks';
import type { WebhookEventRef } from '../../domain/webhook-deliveries';
import { walletEventsAfter } from '../../ledger/wallet-events';
import {
  deleteWebhookEndpoint,
  insertWebhookEndpoint,
  lastWalletSequence,
  listWebhookEndpoints,
  rotateWebhookSecret,
  setWebhookEndpointStatus,
  shardEventRefsSince,
  webhookDeliveriesOf,
  webhookEndpointOf,
  type WebhookEndpoint,
} from '../../ledger/webhooks';
import { enqueueWebhookEvents, type WebhookDeliveryStarter } from '../../temporal-client/webhook-deliveries';
import { principalOf } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';
import { requireUser } from '../require-user';
import { validate } from '../validate';
import {
  WebhookDeliveriesQuery,
  WebhookEndpointBody,
  WebhookEndpointParams,
  WebhookEndpointsQuery,
  WebhookReplayBody,
} from '../webhook-schemas';

export interface WebhookRouteOptions {
  shards: ShardSet;
  starter: WebhookDeliveryStarter;
  /** PAYLOAD_KEYS: a new secret is sealed under the newest before it is stored. */
  sealingKeys: readonly SealingKey[];
  allowPrivate: boolean;
  secretGraceMs: number;
}

/** A replay resends at most this many events; a larger range is refused (narrow it). */
const replay_events_max = 1_000;

const known_event_types = new Set<string>(wallet_event_types);

/**
 * Webhook endpoints (README "Webhooks"): registered by ops (any wallets, or all) or by a
 * customer's own credentials (its own wallet only). A customer sees and manages only the
 * endpoints it registered; another's answers 404, as one that does not exist.
 */
export function webhookRoutes(options: WebhookRouteOptions): Router {
  // Strict: `/v1/webhooks/endpoints/` (an empty endpoint id) is not the list route, so an id
  // that is missing gets 404, like any unknown one, instead of every endpoint.
  const router = Router({ strict: true });
  const reference = () => options.shards.pool(reference_shard);
  const endpointFor: EndpointFor = async (request) => {
    const { endpoint_id } = validate(WebhookEndpointParams, request.params, 'path');
    const endpoint = await webhookEndpointOf(reference(), endpoint_id);
    const principal = principalOf(request);
    const mine =
      principal.role === 'ops' || (endpoint?.ownerRole === 'customer' && endpoint.ownerId === principal.userId);
    if (!endpoint || !mine) throw new ApiError('webhook_endpoint_not_found', `no webhook endpoint ${endpoint_id}`);
    return endpoint;
  };

  router.post('/v1/webhooks/endpoints', async (request, response) => {
    const body = validate(WebhookEndpointBody, request.body, 'body');
    const principal = principalOf(request);
    const unknown = body.event_types.filter((type) => !known_event_types.has(type));
    if (unknown.length > 0)
      throw new ApiError('unknown_event_type', `unknown event types: ${unknown.join(', ')}`, {
        known: wallet_event_types,
      });
    if (principal.role !== 'ops' && (body.all || body.wallets!.some((userId) => userId !== principal.userId)))
      throw new ApiError('forbidden', `a customer's endpoint hears of its own wallet only (${principal.userId})`);
    await checkUrl(body.url, options.allowPrivate);
    const wallets = body.wallets ? [...new Set(body.wallets)] : null;
    for (const userId of wallets ?? []) await requireUser(options.shards, userId);
    const secret = newWebhookSecret();
    const endpoint = await insertWebhookEndpoint(reference(), {
      endpointId: newWebhookEndpointId(),
      url: body.url,
      eventTypes: [...new Set(body.event_types)],
      wallets,
      ownerRole: principal.role,
      ownerId: principal.userId,
      secretSealed: sealSecret(options.sealingKeys, secret),
    });
    sendJson(response, 201, { ...endpointJson(endpoint), secret });
  });

  router.get('/v1/webhooks/endpoints', async (request, response) => {
    const principal = principalOf(request);
    const { owner_id } = validate(WebhookEndpointsQuery, request.query, 'query');
    if (principal.role !== 'ops' && owner_id !== undefined && owner_id !== principal.userId)
      throw new ApiError('forbidden', `a customer lists only its own endpoints (${principal.userId})`);
    // A customer sees the endpoints it registered, never an operator's that happens to share its name.
    const owner =
      principal.role === 'ops'
        ? owner_id === undefined
          ? undefined
          : { id: owner_id }
        : { id: principal.userId, role: 'customer' as const };
    sendJson(response, 200, { endpoints: (await listWebhookEndpoints(reference(), owner)).map(endpointJson) });
  });

  router.get('/v1/webhooks/endpoints/:endpoint_id', async (request, response) => {
    sendJson(response, 200, endpointJson(await endpointFor(request)));
  });

  router.delete('/v1/webhooks/endpoints/:endpoint_id', async (request, response) => {
    const endpoint = await endpointFor(request);
    await deleteWebhookEndpoint(reference(), endpoint.endpointId);
    response.status(204).end();
  });

  secretAndLogRoutes(router, options, endpointFor);
  return router;
}

type EndpointFor = (request: Request) => Promise<WebhookEndpoint>;

/** Rotation, enabling, the delivery log and replay of an endpoint the caller may see. */
function secretAndLogRoutes(router: Router, options: WebhookRouteOptions, endpointFor: EndpointFor): void {
  const reference = () => options.shards.pool(reference_shard);
  router.post('/v1/webhooks/endpoints/:endpoint_id/rotate-secret', async (request, response) => {
    const endpoint = await endpointFor(request);
    const secret = newWebhookSecret();
    const rotated = await rotateWebhookSecret(reference(), {
      endpointId: endpoint.endpointId,
      secretSealed: sealSecret(options.sealingKeys, secret),
      graceMs: options.secretGraceMs,
    });
    if (!rotated) throw new ApiError('webhook_endpoint_not_found', `no webhook endpoint ${endpoint.endpointId}`);
    sendJson(response, 200, { ...endpointJson(rotated), secret });
  });

  router.post('/v1/webhooks/endpoints/:endpoint_id/enable', async (request, response) => {
    const endpoint = await endpointFor(request);
    await setWebhookEndpointStatus(reference(), { endpointId: endpoint.endpointId, status: 'active', reason: null });
    sendJson(response, 200, endpointJson((await webhookEndpointOf(reference(), endpoint.endpointId)) ?? endpoint));
  });

  router.get('/v1/webhooks/endpoints/:endpoint_id/deliveries', async (request, response) => {
    const endpoint = await endpointFor(request);
    const query = validate(WebhookDeliveriesQuery, request.query, 'query');
    const page = await webhookDeliveriesOf(reference(), {
      endpointId: endpoint.endpointId,
      afterId: BigInt(query.cursor ?? '0'),
      limit: query.limit,
    });
    sendJson(response, 200, {
      deliveries: page.map((delivery) => ({
        delivery_id: delivery.deliveryId.toString(),
        event_id: delivery.eventId,
        event_type: delivery.eventType,
        user_id: delivery.userId,
        sequence: delivery.sequence,
        attempt: delivery.attempt,
        replay: delivery.replay,
        succeeded: delivery.succeeded,
        status_code: delivery.statusCode,
        latency_ms: delivery.latencyMs,
        error: delivery.error,
        attempted_at: delivery.attemptedAt.toISOString(),
      })),
      next_cursor: page.length === query.limit ? page.at(-1)!.deliveryId.toString() : null,
    });
  });

  router.post('/v1/webhooks/endpoints/:endpoint_id/replay', async (request, response) => {
    const endpoint = await endpointFor(request);
    const body = validate(WebhookReplayBody, request.body, 'body');
    if (endpoint.status !== 'active')
      throw new ApiError('webhook_endpoint_disabled', 'the endpoint is disabled; POST .../enable first, then replay');
    const refs =
      body.from_time !== undefined
        ? await refsSince(options.shards, endpoint, new Date(body.from_time))
        : await refsOfWallet(request, options.shards, endpoint, body.user_id!, BigInt(body.from_sequence!));
    await enqueueWebhookEvents(options.starter, endpoint.endpointId, refs, true);
    sendJson(response, 202, { endpoint_id: endpoint.endpointId, events: refs.length });
  });
}

function endpointJson(endpoint: WebhookEndpoint) {
  return {
    endpoint_id: endpoint.endpointId,
    url: endpoint.url,
    event_types: endpoint.eventTypes,
    wallets: endpoint.wallets,
    owner_role: endpoint.ownerRole,
    owner_id: endpoint.ownerId,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    created_at: endpoint.createdAt.toISOString(),
    previous_secret_expires_at: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
  };
}

/**
 * The URL's shape, then every address its host resolves to: one loopback, private, link-local
 * or reserved address refuses it (unless allowed). Deliveries check again at connect time, on
 * the address they connect to (activities/webhooks.ts), so a name that later resolves elsewhere
 * gains nothing.
 */
async function checkUrl(url: string, allowPrivate: boolean): Promise<void> {
  const problem = webhookUrlProblem(url);
  if (problem) throw new ApiError('webhook_url_invalid', `url ${problem}`);
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (found) => found.map((address) => address.address),
        () => {
          throw new ApiError('webhook_url_invalid', `url's host ${host} does not resolve`);
        },
      );
  const refused = addresses.find(isRefusedAddress);
  if (refused && !allowPrivate)
    throw new ApiError(
      'webhook_url_refused',
      `url's host ${host} is (or resolves to) ${refused}: loopback, private, link-local and reserved addresses are refused`,
    );
}

async function refsOfWallet(
  request: Request,
  shards: ShardSet,
  endpoint: WebhookEndpoint,
  userId: string,
  fromSequence: bigint,
): Promise<WebhookEventRef[]> {
  const principal = principalOf(request);
  if (principal.role !== 'ops' && principal.userId !== userId)
    throw new ApiError('forbidden', `a customer may replay only its own wallet (${principal.userId})`);
  if (endpoint.wallets !== null && !endpoint.wallets.includes(userId))
    throw new ApiError('replay_out_of_bounds', `the endpoint does not subscribe to wallet ${userId}`);
  const pool = shards.pool(shards.shardOf(userId));
  const last = await lastWalletSequence(pool, userId);
  if (fromSequence > last)
    throw new ApiError(
      'replay_out_of_bounds',
      `wallet ${userId}'s last event is sequence ${last}; from_sequence ${fromSequence} is past it`,
    );
  if (last - fromSequence + 1n > BigInt(replay_events_max))
    throw new ApiError('replay_out_of_bounds', `a replay resends at most ${replay_events_max} events; start later`);
  const refs: WebhookEventRef[] = [];
  for (let after = fromSequence - 1n; after < last;) {
    const page = await walletEventsAfter(pool, { userId, afterSequence: after, limit: wallet_events_page_max });
    if (page.length === 0) break;
    for (const event of page)
      if (endpoint.eventTypes.includes(event.type)) refs.push({ userId, sequence: event.sequence.toString() });
    after = page.at(-1)!.sequence;
  }
  return refs;
}

async function refsSince(shards: ShardSet, endpoint: WebhookEndpoint, from: Date): Promise<WebhookEventRef[]> {
  if (from.getTime() > Date.now()) throw new ApiError('replay_out_of_bounds', 'from_time is in the future');
  const refs: WebhookEventRef[] = [];
  for (let shard = 0; shard < shards.count; shard++) {
    const found = await shardEventRefsSince(shards.pool(shard), {
      from,
      wallets: endpoint.wallets,
      eventTypes: endpoint.eventTypes,
      limit: replay_events_max + 1 - refs.length,
    });
    refs.push(...found.map((ref) => ({ userId: ref.userId, sequence: ref.sequence.toString() })));
    if (refs.length > replay_events_max)
      throw new ApiError('replay_out_of_bounds', `more than ${replay_events_max} events since from_time; start later`);
  }
  return refs;
}
