import type pg from 'pg';
import { virtualAccountNumberOf } from '../domain/virtual-accounts';

/**
 * Virtual account numbers on the reference shard (migrations/1763769600050_payins.sql). A wallet
 * gets its number on the first read of its funding instructions: a number nobody was ever shown
 * cannot be paid into, so wallets older than pay-ins need no backfill. The table's primary key
 * makes a number one wallet's across all shards; its unique user_id gives a wallet one number,
 * also when two first reads race (the loser's counter value is skipped, never reused).
 */
export async function virtualAccountOf(reference: pg.Pool, userId: string): Promise<string> {
  const existing = await accountNumberOfUser(reference, userId);
  if (existing) return existing;
  const counter = await reference.query<{ n: string }>("select nextval('virtual_account_sequence') as n");
  await reference.query(
    'insert into virtual_accounts (account_number, user_id) values ($1::text, $2::text) on conflict (user_id) do nothing',
    [virtualAccountNumberOf(BigInt(counter.rows[0]!.n)), userId],
  );
  return (await accountNumberOfUser(reference, userId))!;
}

async function accountNumberOfUser(reference: pg.Pool, userId: string): Promise<string | undefined> {
  const found = await reference.query<{ account_number: string }>(
    'select account_number from virtual_accounts where user_id = $1::text',
    [userId],
  );
  return found.rows[0]?.account_number;
}

/** Whether a user exists on its shard and whether its wallet is closed (a closed wallet takes no pay-ins). */
export async function walletOpenness(shard: pg.Pool, userId: string): Promise<'open' | 'closed' | 'unknown'> {
  const found = await shard.query<{ closed: boolean }>(
    'select closed_at is not null as closed from users where user_id = $1::text',
    [userId],
  );
  const row = found.rows[0];
  return row === undefined ? 'unknown' : row.closed ? 'closed' : 'open';
}
