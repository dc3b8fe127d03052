import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import {
  bank_accounts_per_user_max,
  fingerprintOf,
  maskedDetails,
  rail_currency,
  type BankRail,
  type MaskedRailDetails,
  type RailDetails,
} from '../domain/bank-accounts';
import { recordOpsAction } from './audit';

/**
 * A wallet's external bank accounts (migrations/1763769600030_bank-accounts.sql), on the owner's
 * shard. Every read but usableBankAccount and bankAccountsOfPayouts answers the masked view: the full account number
 * leaves this module only for the rail that sends money to it.
 */
export interface BankAccount {
  bankAccountId: string;
  userId: string;
  currency: string;
  holderName: string;
  details: MaskedRailDetails;
  createdAt: Date;
  deletedAt: Date | null;
}

/** The whole account, for the rail that builds a payment to it (never for an answer or a log line). */
export interface BankAccountForRail extends Omit<BankAccount, 'details'> {
  details: RailDetails;
}

interface BankAccountRow {
  bank_account_id: string;
  user_id: string;
  rail: BankRail;
  currency: string;
  holder_name: string;
  details: { routing_number: string; account_number: string; account_type: 'checking' | 'savings' };
  created_at: Date;
  deleted_at: Date | null;
}

const columns = 'bank_account_id, user_id, rail, currency, holder_name, details, created_at, deleted_at';

export type RegisterOutcome =
  | { outcome: 'created' | 'existing'; account: BankAccount }
  | { outcome: 'unknown_user' }
  | { outcome: 'limit_reached' };

/**
 * Registers an account, or finds the live registration of the same account (same rail fields,
 * same user) and answers it unchanged. In one transaction under the user's row lock, so racing
 * registrations of one user count right; an operator's registration is audited in it.
 */
export async function registerBankAccount(
  client: pg.PoolClient,
  request: { userId: string; holderName: string; details: RailDetails; operator: string | null },
): Promise<RegisterOutcome> {
  const user = await client.query('select 1 from users where user_id = $1::text for update', [request.userId]);
  if (user.rowCount !== 1) return { outcome: 'unknown_user' };
  const fingerprint = fingerprintOf(request.details);
  const existing = await client.query<BankAccountRow>(
    `select ${columns} from bank_accounts where user_id = $1::text and fingerprint = $2::text and deleted_at is null`,
    [request.userId, fingerprint],
  );
  if (existing.rows[0]) return { outcome: 'existing', account: bankAccountOf(existing.rows[0]) };
  const live = await client.query<{ count: number }>(
    'select count(*)::int as count from bank_accounts where user_id = $1::text and deleted_at is null',
    [request.userId],
  );
  if (live.rows[0]!.count >= bank_accounts_per_user_max) return { outcome: 'limit_reached' };
  const { ach } = request.details;
  const inserted = await client.query<BankAccountRow>(
    `insert into bank_accounts (bank_account_id, user_id, rail, currency, holder_name, details, last4, fingerprint, created_by)
     values ($1::text, $2::text, $3::text, $4::char(3), $5::text, $6::jsonb, $7::text, $8::text, $9::text)
     returning ${columns}`,
    [
      `ba_${randomBytes(16).toString('hex')}`,
      request.userId,
      request.details.rail,
      rail_currency[request.details.rail],
      request.holderName,
      JSON.stringify({
        routing_number: ach.routingNumber,
        account_number: ach.accountNumber,
        account_type: ach.accountType,
      }),
      ach.accountNumber.slice(-4),
      fingerprint,
      request.operator,
    ],
  );
  const account = bankAccountOf(inserted.rows[0]!);
  if (request.operator !== null) await auditBankAccount(client, request.operator, 'bank_account_add', account);
  return { outcome: 'created', account };
}

/** The user's live accounts, oldest first (at most bank_accounts_per_user_max). */
export async function listBankAccounts(client: pg.Pool | pg.PoolClient, userId: string): Promise<BankAccount[]> {
  const found = await client.query<BankAccountRow>(
    `select ${columns} from bank_accounts where user_id = $1::text and deleted_at is null order by created_at, bank_account_id`,
    [userId],
  );
  return found.rows.map(bankAccountOf);
}

/**
 * Removes an account from use: no new payout may go to it; the row stays for the payouts that
 * did. Removing a removed one answers it as it is. Undefined: no such account of this user.
 */
export async function removeBankAccount(
  client: pg.PoolClient,
  request: { userId: string; bankAccountId: string; operator: string | null },
): Promise<BankAccount | undefined> {
  const removed = await client.query<BankAccountRow>(
    `update bank_accounts set deleted_at = now(), deleted_by = $3::text
      where bank_account_id = $1::text and user_id = $2::text and deleted_at is null
      returning ${columns}`,
    [request.bankAccountId, request.userId, request.operator],
  );
  if (removed.rows[0]) {
    const account = bankAccountOf(removed.rows[0]);
    if (request.operator !== null) await auditBankAccount(client, request.operator, 'bank_account_remove', account);
    return account;
  }
  const found = await client.query<BankAccountRow>(
    `select ${columns} from bank_accounts where bank_account_id = $1::text and user_id = $2::text`,
    [request.bankAccountId, request.userId],
  );
  return found.rows[0] && bankAccountOf(found.rows[0]);
}

/**
 * The account a new payout may go to: this user's, not removed. Undefined otherwise (unknown,
 * another user's, or removed): the payout is refused before anything is held.
 */
export async function usableBankAccount(
  client: pg.Pool | pg.PoolClient,
  userId: string,
  bankAccountId: string,
): Promise<BankAccountForRail | undefined> {
  return accountForRail(client, userId, bankAccountId, 'and deleted_at is null');
}

/**
 * The accounts recorded payouts go to, removed or not: a payout accepted before its account was
 * removed is still paid there (its file is built from this). One query for all the payouts of a
 * shard, keyed `user_id/bank_account_id`; a payout whose account this user does not have is
 * missing from the map.
 */
export async function bankAccountsOfPayouts(
  client: pg.Pool | pg.PoolClient,
  payouts: readonly { userId: string; bankAccountId: string }[],
): Promise<Map<string, BankAccountForRail>> {
  const found = await client.query<BankAccountRow>(
    `select ${columns} from bank_accounts
      where (bank_account_id, user_id) in (select * from unnest($1::text[], $2::text[]))`,
    [payouts.map((payout) => payout.bankAccountId), payouts.map((payout) => payout.userId)],
  );
  return new Map(
    found.rows.map((row) => [
      payoutAccountKey({ userId: row.user_id, bankAccountId: row.bank_account_id }),
      { ...bankAccountOf(row), details: railDetailsOf(row) },
    ]),
  );
}

/** The key of bankAccountsOfPayouts' map. */
export function payoutAccountKey(payout: { userId: string; bankAccountId: string }): string {
  return `${payout.userId}/${payout.bankAccountId}`;
}

async function accountForRail(
  client: pg.Pool | pg.PoolClient,
  userId: string,
  bankAccountId: string,
  liveOnly: 'and deleted_at is null' | '',
): Promise<BankAccountForRail | undefined> {
  const found = await client.query<BankAccountRow>(
    `select ${columns} from bank_accounts where bank_account_id = $1::text and user_id = $2::text ${liveOnly}`,
    [bankAccountId, userId],
  );
  const row = found.rows[0];
  return row && { ...bankAccountOf(row), details: railDetailsOf(row) };
}

function railDetailsOf(row: BankAccountRow): RailDetails {
  return {
    rail: row.rail,
    ach: {
      routingNumber: row.details.routing_number,
      accountNumber: row.details.account_number,
      accountType: row.details.account_type,
    },
  };
}

function bankAccountOf(row: BankAccountRow): BankAccount {
  return {
    bankAccountId: row.bank_account_id,
    userId: row.user_id,
    currency: row.currency,
    holderName: row.holder_name,
    details: maskedDetails(railDetailsOf(row)),
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}

/** The audit row names the account and its masked identity, never the number. */
async function auditBankAccount(
  client: pg.PoolClient,
  operator: string,
  action: 'bank_account_add' | 'bank_account_remove',
  account: BankAccount,
): Promise<void> {
  await recordOpsAction(client, {
    operator,
    action,
    targetType: 'bank_account',
    targetId: account.bankAccountId,
    reason: null,
    via: 'http',
    details: { user_id: account.userId, rail: account.details.rail, last4: account.details.ach.last4 },
  });
}
