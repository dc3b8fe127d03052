import type pg from 'pg';

/** Account ids name their owner and currency, so a ledger line reads on its own. */
export function customerAccountId(userId: string, currency: string): string {
  return `customer:${userId}:${currency}`;
}

export function clearingAccountId(currency: string): string {
  return `clearing:${currency}`;
}

export function settlementAccountId(currency: string): string {
  return `settlement:${currency}`;
}

/** Wallets and system accounts are opened lazily, on the first posting that touches them. */
export async function openAccounts(
  client: pg.PoolClient,
  userId: string,
  currency: string,
  systemKind: 'clearing' | 'settlement',
): Promise<void> {
  const systemAccountId = systemKind === 'clearing' ? clearingAccountId(currency) : settlementAccountId(currency);
  await client.query(
    `insert into accounts (account_id, kind, user_id, currency)
     values ($1::text, 'customer', $2::text, $3::char(3)), ($4::text, $5::text, null, $3::char(3))
     on conflict do nothing`,
    [customerAccountId(userId, currency), userId, currency, systemAccountId, systemKind],
  );
}
