import type pg from 'pg';
import type { DrainCursor } from './wallet-events';

/**
 * Webhook endpoints, their delivery log and the dispatcher's drain cursors (migration
 * 1763769600150). Endpoints and deliveries live on the reference shard; a drain cursor lives on
 * the shard it drains. Secrets stay sealed here: only the delivery activity opens them.
 */

type Queryable = pg.Pool | pg.PoolClient;

export interface WebhookEndpoint {
  endpointId: string;
  url: string;
  eventTypes: string[];
  /** null: every wallet. */
  wallets: string[] | null;
  ownerRole: 'customer' | 'ops';
  ownerId: string;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  /** When a rotation's old secret stops signing; null: no rotation under way. */
  previousSecretExpiresAt: Date | null;
}

export interface SealedSecrets {
  secretSealed: string;
  /** The rotated-out secret while its grace period lasts. */
  previousSecretSealed: string | null;
}

interface EndpointRow {
  endpoint_id: string;
  url: string;
  event_types: string[];
  wallets: string[] | null;
  owner_role: 'customer' | 'ops';
  owner_id: string;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_at: Date;
  previous_secret_expires_at: Date | null;
}

const endpoint_columns = `endpoint_id, url, event_types, wallets, owner_role, owner_id, status, disabled_reason,
  disabled_at, created_at, previous_secret_expires_at`;

function endpointOf(row: EndpointRow): WebhookEndpoint {
  return {
    endpointId: row.endpoint_id,
    url: row.url,
    eventTypes: row.event_types,
    wallets: row.wallets,
    ownerRole: row.owner_role,
    ownerId: row.owner_id,
    status: row.status,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    previousSecretExpiresAt: row.previous_secret_expires_at,
  };
}

export async function insertWebhookEndpoint(
  client: Queryable,
  endpoint: Pick<WebhookEndpoint, 'endpointId' | 'url' | 'eventTypes' | 'wallets' | 'ownerRole' | 'ownerId'> & {
    secretSealed: string;
  },
): Promise<WebhookEndpoint> {
  const inserted = await client.query<EndpointRow>(
    `insert into webhook_endpoints (endpoint_id, url, event_types, wallets, owner_role, owner_id, secret_sealed)
     values ($1::text, $2::text, $3::text[], $4::text[], $5::text, $6::text, $7::text)
     returning ${endpoint_columns}`,
    [
      endpoint.endpointId,
      endpoint.url,
      endpoint.eventTypes,
      endpoint.wallets,
      endpoint.ownerRole,
      endpoint.ownerId,
      endpoint.secretSealed,
    ],
  );
  return endpointOf(inserted.rows[0]!);
}

/** A live (not deleted) endpoint. */
export async function webhookEndpointOf(client: Queryable, endpointId: string): Promise<WebhookEndpoint | undefined> {
  const found = await client.query<EndpointRow>(
    `select ${endpoint_columns} from webhook_endpoints where endpoint_id = $1::text and deleted_at is null`,
    [endpointId],
  );
  return found.rows[0] && endpointOf(found.rows[0]);
}

/** Live endpoints, oldest first; of one owner when given. */
export async function listWebhookEndpoints(
  client: Queryable,
  owner: { id: string; role?: 'customer' | 'ops' } | undefined,
): Promise<WebhookEndpoint[]> {
  const found = await client.query<EndpointRow>(
    `select ${endpoint_columns} from webhook_endpoints
      where deleted_at is null and ($1::text is null or owner_id = $1::text)
        and ($2::text is null or owner_role = $2::text)
      order by created_at, endpoint_id limit 1000`,
    [owner?.id ?? null, owner?.role ?? null],
  );
  return found.rows.map(endpointOf);
}

/** The active endpoints the dispatcher fans events out to. */
export async function activeWebhookEndpoints(client: Queryable): Promise<WebhookEndpoint[]> {
  const found = await client.query<EndpointRow>(
    `select ${endpoint_columns} from webhook_endpoints where deleted_at is null and status = 'active'`,
  );
  return found.rows.map(endpointOf);
}

export async function deleteWebhookEndpoint(client: Queryable, endpointId: string): Promise<boolean> {
  const deleted = await client.query(
    `update webhook_endpoints set deleted_at = now() where endpoint_id = $1::text and deleted_at is null`,
    [endpointId],
  );
  return deleted.rowCount === 1;
}

/** The endpoint's sealed secrets, the old one only while its grace period lasts. */
export async function webhookSecretsOf(client: Queryable, endpointId: string): Promise<SealedSecrets | undefined> {
  const found = await client.query<{ secret_sealed: string; previous_secret_sealed: string | null }>(
    `select secret_sealed,
            case when previous_secret_expires_at > now() then previous_secret_sealed end as previous_secret_sealed
       from webhook_endpoints where endpoint_id = $1::text and deleted_at is null`,
    [endpointId],
  );
  const row = found.rows[0];
  return row && { secretSealed: row.secret_sealed, previousSecretSealed: row.previous_secret_sealed };
}

/** A new secret; the current one keeps signing beside it for graceMs. */
export async function rotateWebhookSecret(
  client: Queryable,
  rotation: { endpointId: string; secretSealed: string; graceMs: number },
): Promise<WebhookEndpoint | undefined> {
  const rotated = await client.query<EndpointRow>(
    `update webhook_endpoints
        set previous_secret_sealed = secret_sealed, secret_sealed = $2::text,
            previous_secret_expires_at = now() + $3::int * interval '1 millisecond'
      where endpoint_id = $1::text and deleted_at is null
      returning ${endpoint_columns}`,
    [rotation.endpointId, rotation.secretSealed, rotation.graceMs],
  );
  return rotated.rows[0] && endpointOf(rotated.rows[0]);
}

/** Disabled (its retry budget spent) or active again (by its owner or ops); false when it is gone or already so. */
export async function setWebhookEndpointStatus(
  client: Queryable,
  change: { endpointId: string; status: 'active' | 'disabled'; reason: string | null },
): Promise<boolean> {
  const changed = await client.query(
    `update webhook_endpoints
        set status = $2::text, disabled_reason = $3::text,
            disabled_at = case when $2::text = 'disabled' then now() end
      where endpoint_id = $1::text and deleted_at is null and status <> $2::text`,
    [change.endpointId, change.status, change.reason],
  );
  return changed.rowCount === 1;
}

export interface WebhookDelivery {
  deliveryId: bigint;
  endpointId: string;
  eventId: string;
  eventType: string;
  userId: string;
  sequence: bigint;
  attempt: number;
  replay: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  succeeded: boolean;
  attemptedAt: Date;
}

export async function recordWebhookDelivery(
  client: Queryable,
  delivery: Omit<WebhookDelivery, 'deliveryId' | 'attemptedAt'>,
): Promise<void> {
  await client.query(
    `insert into webhook_deliveries (endpoint_id, event_id, event_type, user_id, sequence, attempt, replay,
                                     status_code, latency_ms, error, succeeded)
     values ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::int, $7::boolean, $8::int, $9::int, $10::text, $11::boolean)`,
    [
      delivery.endpointId,
      delivery.eventId,
      delivery.eventType,
      delivery.userId,
      delivery.sequence.toString(),
      delivery.attempt,
      delivery.replay,
      delivery.statusCode,
      delivery.latencyMs,
      delivery.error,
      delivery.succeeded,
    ],
  );
}

/** An endpoint's attempts after `afterId` (0: from its first), oldest first, a page at a time. */
export async function webhookDeliveriesOf(
  client: Queryable,
  page: { endpointId: string; afterId: bigint; limit: number },
): Promise<WebhookDelivery[]> {
  const found = await client.query<{
    delivery_id: string;
    endpoint_id: string;
    event_id: string;
    event_type: string;
    user_id: string;
    sequence: string;
    attempt: number;
    replay: boolean;
    status_code: number | null;
    latency_ms: number;
    error: string | null;
    succeeded: boolean;
    attempted_at: Date;
  }>(
    // Aliased columns are text, so ORDER BY names the table's own (d.delivery_id).
    `select delivery_id::text as delivery_id, endpoint_id, event_id, event_type, user_id, sequence::text as sequence,
            attempt, replay, status_code, latency_ms, error, succeeded, attempted_at
       from webhook_deliveries d where d.endpoint_id = $1::text and d.delivery_id > $2::bigint
      order by d.delivery_id limit $3::int`,
    [page.endpointId, page.afterId.toString(), page.limit],
  );
  return found.rows.map((row) => ({
    deliveryId: BigInt(row.delivery_id),
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    userId: row.user_id,
    sequence: BigInt(row.sequence),
    attempt: row.attempt,
    replay: row.replay,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    error: row.error,
    succeeded: row.succeeded,
    attemptedAt: row.attempted_at,
  }));
}

/** Where the named drain stands in this shard's outbox; undefined: it never ran. */
export async function drainCursorOf(client: Queryable, drain: string): Promise<DrainCursor | undefined> {
  const found = await client.query<{ xid: string; position: string }>(
    `select xid::text as xid, position::text as position from webhook_drain_cursors where drain = $1::text`,
    [drain],
  );
  const row = found.rows[0];
  return row && { xid: BigInt(row.xid), position: BigInt(row.position) };
}

export async function saveDrainCursor(client: Queryable, drain: string, cursor: DrainCursor): Promise<void> {
  await client.query(
    `insert into webhook_drain_cursors (drain, xid, position) values ($1::text, $2::text::xid8, $3::bigint)
     on conflict (drain) do update set xid = excluded.xid, position = excluded.position, updated_at = now()`,
    [drain, cursor.xid.toString(), cursor.position.toString()],
  );
}

/** A wallet's last event sequence number (0: none yet), for replay bounds. */
export async function lastWalletSequence(client: Queryable, userId: string): Promise<bigint> {
  const found = await client.query<{ last_sequence: string }>(
    `select last_sequence::text as last_sequence from wallet_event_heads where user_id = $1::text`,
    [userId],
  );
  return BigInt(found.rows[0]?.last_sequence ?? '0');
}

/** Events of a shard that occurred at or after `from`, in (user, sequence) order, so each wallet's stay in sequence, for a replay by time. */
export async function shardEventRefsSince(
  client: Queryable,
  query: { from: Date; wallets: string[] | null; eventTypes: string[]; limit: number },
): Promise<{ userId: string; sequence: bigint; occurredAt: Date }[]> {
  const found = await client.query<{ user_id: string; sequence: string; occurred_at: Date }>(
    `select e.user_id, e.sequence::text as sequence, e.occurred_at from wallet_events e
      where e.occurred_at >= $1::timestamptz and e.type = any($2::text[])
        and ($3::text[] is null or e.user_id = any($3::text[]))
      order by e.user_id, e.sequence limit $4::int`,
    [query.from, query.eventTypes, query.wallets, query.limit],
  );
  return found.rows.map((row) => ({
    userId: row.user_id,
    sequence: BigInt(row.sequence),
    occurredAt: row.occurred_at,
  }));
}
