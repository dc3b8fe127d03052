import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import {
  WebhookDeliveriesQuery,
  WebhookDeliveryList,
  WebhookEndpointBody,
  WebhookEndpointList,
  WebhookEndpointParams,
  WebhookEndpointResponse,
  WebhookEndpointsQuery,
  WebhookEndpointWithSecret,
  WebhookReplayAccepted,
  WebhookReplayBody,
} from './webhook-schemas';

/** api/openapi.ts's route registrar: an operation behind the bearer token, error answers added. */
type Route = (config: Omit<RouteConfig, 'responses' | 'security'> & { ok: RouteConfig['responses'] }) => void;

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const ok = (status: string, description: string, schema: z.ZodType) => ({ [status]: { description, ...json(schema) } });

/** The webhook routes (api/routes/webhooks.ts) in the OpenAPI document. */
export function registerWebhookPaths(route: Route): void {
  const path = '/v1/webhooks/endpoints';
  const one = `${path}/{endpoint_id}`;
  const params = { params: WebhookEndpointParams };
  route({
    method: 'post',
    path,
    description:
      'Registers an endpoint for wallet events, signed per Standard Webhooks with its own secret (answered once, here). Ops may name any wallets or `all`; a customer only its own wallet (403 forbidden otherwise). 422 webhook_url_invalid (not http(s), credentials, does not resolve), 422 webhook_url_refused (loopback, private, link-local, metadata), 422 unknown_event_type.',
    request: { body: json(WebhookEndpointBody) },
    ok: ok('201', 'registered; `secret` is shown only now', WebhookEndpointWithSecret),
  });
  route({
    method: 'get',
    path,
    description: "Ops: every live endpoint (or one owner's, `owner_id`); a customer: the ones it registered.",
    request: { query: WebhookEndpointsQuery },
    ok: ok('200', 'the endpoints', WebhookEndpointList),
  });
  route({ method: 'get', path: one, request: params, ok: ok('200', 'the endpoint', WebhookEndpointResponse) });
  route({
    method: 'delete',
    path: one,
    description: 'Deletes the endpoint: nothing more is sent to it (an attempt under way may finish).',
    request: params,
    ok: { '204': { description: 'deleted' } },
  });
  route({
    method: 'post',
    path: `${one}/rotate-secret`,
    description:
      'A new secret; the old one keeps signing beside it for WEBHOOK_SECRET_GRACE (each delivery carries both signatures), so the consumer can switch without losing a delivery.',
    request: params,
    ok: ok('200', 'rotated; `secret` is the new one, shown only now', WebhookEndpointWithSecret),
  });
  route({
    method: 'post',
    path: `${one}/enable`,
    description: 'Enables an endpoint disabled after its retry budget; replay what it missed.',
    request: params,
    ok: ok('200', 'the endpoint, active', WebhookEndpointResponse),
  });
  route({
    method: 'get',
    path: `${one}/deliveries`,
    description: 'Every delivery attempt, oldest first: status code, latency, error. Cursor paginated.',
    request: { ...params, query: WebhookDeliveriesQuery },
    ok: ok('200', 'a page of attempts', WebhookDeliveryList),
  });
  route({
    method: 'post',
    path: `${one}/replay`,
    description:
      "Resends, in order per wallet, a wallet's events from a sequence number (`user_id` and `from_sequence`) or every subscribed event since a time (`from_time`). At most 1,000 events; a range past the wallet's last event, in the future, larger than that or of a wallet the endpoint does not hear of is 422 replay_out_of_bounds; a disabled endpoint 409 webhook_endpoint_disabled.",
    request: { ...params, body: json(WebhookReplayBody) },
    ok: ok('202', 'queued for resending', WebhookReplayAccepted),
  });
}
