import type pg from 'pg';
import { recordOpsAction } from './audit';

export interface WalletRules {
  userId: string;
  currency: string;
  /** Debits may not take the balance below this; negative is an overdraft allowance. */
  minBalanceMinor: bigint;
  /** This wallet's own rolling 24-hour outgoing limit; null: the wallet-wide default applies. */
  dailyOutgoingMaxMinor: bigint | null;
}

interface RulesRow {
  min_balance: string;
  daily_outgoing_max: string | null;
}

export async function rulesOf(client: pg.PoolClient | pg.Pool, userId: string, currency: string): Promise<WalletRules> {
  const found = await client.query<RulesRow>(
    `select min_balance, daily_outgoing_max from accounts where kind = 'customer' and user_id = $1::text and currency = $2::char(3)`,
    [userId, currency],
  );
  const row = found.rows[0];
  return {
    userId,
    currency,
    minBalanceMinor: BigInt(row?.min_balance ?? '0'),
    dailyOutgoingMaxMinor: row?.daily_outgoing_max ? BigInt(row.daily_outgoing_max) : null,
  };
}

/**
 * Sets a wallet's rules (opening the wallet at zero when it has none yet) and audits the change,
 * in one transaction. A floor above the current balance is allowed: it only stops new debits.
 */
export async function setRules(
  client: pg.PoolClient,
  change: {
    userId: string;
    currency: string;
    minBalanceMinor?: bigint;
    dailyOutgoingMaxMinor?: bigint | null;
    operator: string;
    reason: string;
  },
): Promise<WalletRules> {
  const accountId = `customer:${change.userId}:${change.currency}`;
  await client.query(
    `insert into accounts (account_id, kind, user_id, currency) values ($1::text, 'customer', $2::text, $3::char(3)) on conflict do nothing`,
    [accountId, change.userId, change.currency],
  );
  const updated = await client.query<RulesRow>(
    `update accounts
        set min_balance = coalesce($2::bigint, min_balance),
            daily_outgoing_max = case when $3::boolean then $4::bigint else daily_outgoing_max end,
            updated_at = now()
      where account_id = $1::text
      returning min_balance, daily_outgoing_max`,
    [
      accountId,
      change.minBalanceMinor?.toString() ?? null,
      change.dailyOutgoingMaxMinor !== undefined,
      change.dailyOutgoingMaxMinor?.toString() ?? null,
    ],
  );
  const row = updated.rows[0]!;
  await recordOpsAction(client, {
    operator: change.operator,
    action: 'limit_change',
    targetType: 'user',
    targetId: change.userId,
    reason: change.reason,
    via: 'http',
    details: { currency: change.currency, min_balance: row.min_balance, daily_outgoing_max: row.daily_outgoing_max },
  });
  return {
    userId: change.userId,
    currency: change.currency,
    minBalanceMinor: BigInt(row.min_balance),
    dailyOutgoingMaxMinor: row.daily_outgoing_max ? BigInt(row.daily_outgoing_max) : null,
  };
}
