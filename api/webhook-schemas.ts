import { z } from 'zod';
import { webhook_endpoint_id_pattern, webhook_url_length_max } from '../domain/webhooks';
import { wallet_event_types } from '../domain/wallet-events';
import { webhook_disabled_reasons } from '../domain/webhook-deliveries';
import { Instant, UserId } from './schemas';

/** Webhooks' requests and answers (api/routes/webhooks.ts); validated by these and documented from them. */
const webhook_wallets_max = 100;
const event_types_max = 64;
const deliveries_page_max = 100;

const EndpointId = z
  .string()
  .regex(webhook_endpoint_id_pattern, 'not a webhook endpoint id (POST /v1/webhooks/endpoints gives them)')
  .openapi({ example: 'we_0123456789abcdef0123456789abcdef' });

export const WebhookEndpointsQuery = z.strictObject({
  owner_id: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .openapi({ description: 'only the endpoints this caller registered (a customer may name only itself)' }),
});

export const WebhookEndpointParams = z.strictObject({ endpoint_id: EndpointId });

export const WebhookEndpointBody = z
  .strictObject({
    url: z
      .string()
      .min(1)
      .max(webhook_url_length_max * 2)
      .openapi({
        example: 'https://merchant.example/hooks/wallet',
        description:
          'http or https; an address that is loopback, private, link-local or reserved (or a name resolving to one) is 422 webhook_url_refused unless WEBHOOK_ALLOW_PRIVATE=true',
      }),
    event_types: z
      .array(z.string().max(64))
      .min(1)
      .max(event_types_max)
      .openapi({
        description: `event types to receive; any other is 422 unknown_event_type. One of: ${wallet_event_types.join(', ')}`,
      }),
    wallets: z
      .array(UserId)
      .min(1)
      .max(webhook_wallets_max)
      .optional()
      .openapi({ description: 'the wallets whose events to receive (a customer: only its own); or `all` (ops only)' }),
    all: z.literal(true).optional().openapi({ description: 'every wallet (ops only); instead of `wallets`' }),
  })
  .refine((body) => (body.wallets === undefined) !== (body.all === undefined), {
    message: 'give exactly one of wallets or all: true',
  })
  .openapi('WebhookEndpointRequest');

const endpoint_fields = {
  endpoint_id: EndpointId,
  url: z.string(),
  event_types: z.array(z.enum(wallet_event_types)),
  wallets: z.array(UserId).nullable().openapi({ description: 'null: every wallet' }),
  owner_role: z.enum(['customer', 'ops']),
  owner_id: z.string(),
  status: z.enum(['active', 'disabled']).openapi({
    description:
      'disabled: it failed for its whole retry budget (WEBHOOK_RETRY_BUDGET), or more events waited for it than WEBHOOK_BACKLOG_MAX; nothing is sent until enabled',
  }),
  disabled_reason: z.enum(webhook_disabled_reasons).nullable(),
  disabled_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  previous_secret_expires_at: z.iso.datetime().nullable().openapi({
    description:
      'during a rotation: when the old secret stops signing (each delivery carries both signatures until then)',
  }),
};

export const WebhookEndpointResponse = z.object(endpoint_fields).openapi('WebhookEndpoint');

// Written out rather than extended: the contract check closes every object, and cannot close an allOf.
export const WebhookEndpointWithSecret = z
  .object({
    ...endpoint_fields,
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+=*$/)
      .openapi({ description: 'the signing secret (Standard Webhooks); shown only here, never again' }),
  })
  .openapi('WebhookEndpointWithSecret');

export const WebhookEndpointList = z
  .object({ endpoints: z.array(WebhookEndpointResponse) })
  .openapi('WebhookEndpointList');

export const WebhookDeliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(deliveries_page_max).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,18}$/, 'cursor must be a next_cursor value from a previous page')
    .optional(),
});

export const WebhookDeliveryList = z
  .object({
    deliveries: z.array(
      z.object({
        delivery_id: z.string(),
        event_id: z.string(),
        event_type: z.string(),
        user_id: UserId,
        sequence: z.int(),
        attempt: z.int().min(1),
        replay: z.boolean(),
        succeeded: z.boolean(),
        status_code: z
          .int()
          .nullable()
          .openapi({ description: "the answer's status; null when none came (timeout, refused, connection error)" }),
        latency_ms: z.int(),
        error: z.string().nullable(),
        attempted_at: z.iso.datetime(),
      }),
    ),
    next_cursor: z.string().nullable().openapi({ description: 'pass as ?cursor= for the next page; null: none yet' }),
  })
  .openapi('WebhookDeliveryList');

export const WebhookReplayBody = z
  .strictObject({
    user_id: UserId.optional(),
    from_sequence: z.int().min(1).optional(),
    from_time: Instant.optional(),
  })
  .refine(
    (body) =>
      (body.from_time === undefined) !== (body.from_sequence === undefined && body.user_id === undefined) &&
      (body.from_sequence === undefined) === (body.user_id === undefined),
    { message: 'give from_sequence with user_id, or from_time' },
  )
  .openapi('WebhookReplayRequest');

export const WebhookReplayAccepted = z
  .object({
    endpoint_id: EndpointId,
    events: z.int().openapi({ description: 'events queued for resending, in order per wallet' }),
  })
  .openapi('WebhookReplayAccepted');
