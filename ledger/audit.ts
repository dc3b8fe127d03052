import type pg from 'pg';

/**
 * The one list of audited actions, target types and channels: the database's check constraints
 * (migrations) hold the same values, and the API's query validation and OpenAPI enums derive from these.
 */
export const ops_actions = [
  'deposit',
  'withdrawal',
  'transfer',
  'freeze',
  'unfreeze',
  'reverse',
  'reverse_refused',
  'approve',
  'reject',
  'limit_change',
  'close',
  'fx_rate_set',
  // An operator's request to a transfer or a payout refused before anything moved (details: action, refusal, message).
  'refused',
  // An operator ran a transfer's step again after it had failed for good (NEEDS_ATTENTION).
  'retry',
  // An operator registered or removed a wallet's bank account (details: user_id, rail, last4).
  'bank_account_add',
  'bank_account_remove',
  // An operator canceled a payout before a cutoff put it in a file (target: the payout).
  'payout_cancel',
] as const;
export type OpsAction = (typeof ops_actions)[number];

/** What an action acted on: a wallet, a transfer, an FX pair (`USD/EUR`, written by ledger/fx.ts), a bank account or a payout. */
export const audit_target_types = ['user', 'transfer', 'fx_rate', 'bank_account', 'payout'] as const;
export type AuditTargetType = (typeof audit_target_types)[number];

/** Where an ops action came from: the HTTP API (ops token), or a signal or update sent to a transfer's workflow. */
export const ops_channels = ['http', 'signal', 'update'] as const;
export type OpsChannel = (typeof ops_channels)[number];

export interface OpsActionRecord {
  operator: string;
  action: OpsAction;
  targetType: AuditTargetType;
  targetId: string;
  reason: string | null;
  via: OpsChannel;
  details?: Record<string, unknown>;
  /** Set by workflow activities, so a retried activity writes its row once. */
  dedupeKey?: string;
}

/** Appends one row to the shard's ops audit; call it in the transaction of the action it records. */
export async function recordOpsAction(client: pg.PoolClient | pg.Pool, action: OpsActionRecord): Promise<void> {
  await client.query(
    `insert into ops_audit (operator, action, target_type, target_id, reason, via, details, dedupe_key)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::text)
     on conflict (dedupe_key) do nothing`,
    [
      action.operator,
      action.action,
      action.targetType,
      action.targetId,
      action.reason,
      action.via,
      JSON.stringify(action.details ?? {}),
      action.dedupeKey ?? null,
    ],
  );
}

export interface AuditEntry extends Omit<OpsActionRecord, 'dedupeKey' | 'details'> {
  auditId: bigint;
  shard: number;
  occurredAt: Date;
  /** Microseconds since the epoch: the cursor needs the database's full precision. */
  occurredAtUs: bigint;
  details: Record<string, unknown>;
}

/** A position in the merged, newest-first audit of all shards. */
export interface AuditCursor {
  occurredAtUs: bigint;
  shard: number;
  auditId: bigint;
}

export interface AuditFilter {
  operator?: string;
  action?: OpsAction;
  targetId?: string;
  before?: AuditCursor;
  limit: number;
}

/**
 * One shard's audit rows, newest first, after the cursor. Rows of all shards are ordered by
 * (time, shard, id), so the merged pages never skip or repeat a row.
 */
export async function auditOf(client: pg.Pool, shard: number, filter: AuditFilter): Promise<AuditEntry[]> {
  const found = await client.query<{
    audit_id: string;
    occurred_at: Date;
    occurred_at_us: string;
    operator: string;
    action: OpsAction;
    target_type: AuditTargetType;
    target_id: string;
    reason: string | null;
    via: OpsChannel;
    details: Record<string, unknown>;
  }>(
    `select audit_id, occurred_at, (extract(epoch from occurred_at) * 1000000)::bigint as occurred_at_us,
            operator, action, target_type, target_id, reason, via, details
       from ops_audit
      where ($1::text is null or operator = $1::text)
        and ($2::text is null or action = $2::text)
        and ($3::text is null or target_id = $3::text)
        and ($4::bigint is null
             or ((extract(epoch from occurred_at) * 1000000)::bigint, $5::int, audit_id) < ($4::bigint, $6::int, $7::bigint))
      order by occurred_at desc, audit_id desc
      limit $8::int`,
    [
      filter.operator ?? null,
      filter.action ?? null,
      filter.targetId ?? null,
      filter.before?.occurredAtUs.toString() ?? null,
      shard,
      filter.before?.shard ?? null,
      filter.before?.auditId.toString() ?? null,
      filter.limit,
    ],
  );
  return found.rows.map((row) => ({
    auditId: BigInt(row.audit_id),
    shard,
    occurredAt: row.occurred_at,
    occurredAtUs: BigInt(row.occurred_at_us),
    operator: row.operator,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    reason: row.reason,
    via: row.via,
    details: row.details,
  }));
}
