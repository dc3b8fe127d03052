import type pg from 'pg';
import { recordOpsAction } from './audit';

export interface UserRow {
  userId: string;
  frozen: boolean;
  createdAt: Date;
}

/** Returns the new user, or undefined when the id is taken. */
export async function insertUser(client: pg.PoolClient | pg.Pool, userId: string): Promise<UserRow | undefined> {
  const inserted = await client.query<{ user_id: string; frozen: boolean; created_at: Date }>(
    'insert into users (user_id) values ($1::text) on conflict do nothing returning user_id, frozen, created_at',
    [userId],
  );
  const row = inserted.rows[0];
  return row && { userId: row.user_id, frozen: row.frozen, createdAt: row.created_at };
}

export async function findUser(client: pg.PoolClient | pg.Pool, userId: string): Promise<UserRow | undefined> {
  const found = await client.query<{ user_id: string; frozen: boolean; created_at: Date }>(
    'select user_id, frozen, created_at from users where user_id = $1::text',
    [userId],
  );
  const row = found.rows[0];
  return row && { userId: row.user_id, frozen: row.frozen, createdAt: row.created_at };
}

/** Freezes or unfreezes, audited in the same transaction. Returns false when the user does not exist. */
export async function setFrozen(
  client: pg.PoolClient,
  change: { userId: string; frozen: boolean; operator: string; reason: string | null },
): Promise<boolean> {
  const updated = await client.query('update users set frozen = $2::boolean where user_id = $1::text', [
    change.userId,
    change.frozen,
  ]);
  if (updated.rowCount !== 1) return false;
  await recordOpsAction(client, {
    operator: change.operator,
    action: change.frozen ? 'freeze' : 'unfreeze',
    targetType: 'user',
    targetId: change.userId,
    reason: change.reason,
    via: 'http',
  });
  return true;
}

export type CloseOutcome =
  | { outcome: 'closed'; closedAt: Date }
  | { outcome: 'reversal_window_open'; openUntil: Date }
  | { outcome: 'unknown_user' | 'balance_not_zero' | 'transfers_in_flight' };

/**
 * Closes a wallet at zero balance once no money can move into or out of it (SQL close_wallet:
 * the user's row lock keeps postings out meanwhile), audited. `reversalWindowMs`: how long after
 * completing a transfer into or out of the wallet can still be reversed.
 */
export async function closeWallet(
  client: pg.Pool,
  change: { userId: string; operator: string; reason: string; reversalWindowMs: number },
): Promise<CloseOutcome> {
  const found = await client.query<{ outcome: string; closed_at: Date | null; open_until: Date | null }>(
    `select outcome, closed_at, open_until
       from close_wallet(p_user_id => $1::text, p_operator => $2::text, p_reason => $3::text,
                         p_reversal_window_ms => $4::bigint)`,
    [change.userId, change.operator, change.reason, change.reversalWindowMs],
  );
  const row = found.rows[0]!;
  if (row.outcome === 'closed') return { outcome: 'closed', closedAt: row.closed_at! };
  if (row.outcome === 'reversal_window_open') return { outcome: 'reversal_window_open', openUntil: row.open_until! };
  return { outcome: row.outcome as 'unknown_user' | 'balance_not_zero' | 'transfers_in_flight' };
}
