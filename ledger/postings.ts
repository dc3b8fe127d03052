import type pg from 'pg';
import type { FailureReason } from '../domain/transfers';
import { clearingAccountId, customerAccountId, openAccounts, settlementAccountId } from './accounts';

export type Leg = 'debit' | 'credit' | 'refund';
export type Outcome = { outcome: 'posted'; balanceAfterMinor: bigint } | { outcome: 'refused'; reason: FailureReason } | { outcome: 'voided' };
export type PostingResult = Outcome & { replayed: boolean };

export interface PostingRequest {
  transferId: string;
  leg: Leg;
  userId: string;
  /** Positive: the customer's wallet gains it; negative: it loses it. */
  customerDeltaMinor: bigint;
  currency: string;
  /** The other side of the posting: clearing (peer-to-peer) or settlement (pay-in, pay-out). */
  counterparty: 'clearing' | 'settlement';
  customerEntryKind: 'deposit' | 'withdrawal' | 'transfer_out' | 'transfer_in' | 'refund';
  /** Refunds return the customer's own money and must land even on a frozen wallet. */
  ignoreFreeze: boolean;
  workflowId: string;
  runId: string;
}

/**
 * Posts one leg of a transfer exactly once, in one local, balanced transaction.
 *
 * The unique key (transfer_id, leg) is the arbiter: a replayed or concurrent attempt of the same
 * leg finds the outcome the first one committed and returns it without touching any balance.
 * The overdraft check lives in the debiting UPDATE itself (`balance >= amount`), and the table's
 * CHECK constraint backs it up.
 */
export async function postLeg(client: pg.PoolClient, request: PostingRequest): Promise<PostingResult> {
  const previous = await findOutcome(client, request.transferId, request.leg);
  if (previous) return { ...previous, replayed: true };

  const refusal = await checkCustomer(client, request);
  if (refusal) return recordOutcome(client, request, { outcome: 'refused', reason: refusal });

  await openAccounts(client, request.userId, request.currency, request.counterparty);
  const customerBalance = await applyToCustomer(client, request);
  if (customerBalance === undefined) {
    return recordOutcome(client, request, { outcome: 'refused', reason: 'insufficient_funds' });
  }
  const recorded = await recordOutcome(client, request, { outcome: 'posted', balanceAfterMinor: customerBalance });

  const systemAccountId =
    request.counterparty === 'clearing' ? clearingAccountId(request.currency) : settlementAccountId(request.currency);
  const systemBalance = await applyDelta(client, systemAccountId, -request.customerDeltaMinor);
  await insertEntries(client, request, [
    { accountId: customerAccountId(request.userId, request.currency), amount: request.customerDeltaMinor, balanceAfter: customerBalance, kind: request.customerEntryKind },
    { accountId: systemAccountId, amount: -request.customerDeltaMinor, balanceAfter: systemBalance, kind: request.counterparty },
  ]);
  return recorded;
}

/**
 * Decides a leg's outcome as voided when it has not run yet, so that a late attempt (a zombie
 * activity that outlived its timeout) can never post it afterwards. Returns what the leg is now.
 */
export async function voidLeg(
  client: pg.PoolClient,
  request: Pick<PostingRequest, 'transferId' | 'leg' | 'workflowId' | 'runId'>,
): Promise<PostingResult> {
  const previous = await findOutcome(client, request.transferId, request.leg);
  if (previous) return { ...previous, replayed: true };
  return recordOutcome(client, request, { outcome: 'voided' });
}

export async function findOutcome(client: pg.PoolClient, transferId: string, leg: Leg): Promise<Outcome | undefined> {
  const found = await client.query<{ outcome: Outcome['outcome']; reason: FailureReason | null; balance_after: string | null }>(
    `select p.outcome, p.reason,
            (select e.balance_after from entries e
              where e.transfer_id = p.transfer_id and e.leg = p.leg and e.account_id like 'customer:%') as balance_after
       from postings p
      where p.transfer_id = $1::text and p.leg = $2::text`,
    [transferId, leg],
  );
  const row = found.rows[0];
  if (!row) return undefined;
  if (row.outcome === 'posted') return { outcome: 'posted', balanceAfterMinor: BigInt(row.balance_after ?? '0') };
  if (row.outcome === 'refused') return { outcome: 'refused', reason: row.reason ?? 'unknown_user' };
  return { outcome: 'voided' };
}

async function checkCustomer(client: pg.PoolClient, request: PostingRequest): Promise<FailureReason | undefined> {
  // FOR SHARE: a concurrent freeze waits for this posting to commit, and vice versa.
  const user = await client.query<{ frozen: boolean }>('select frozen from users where user_id = $1::text for share', [
    request.userId,
  ]);
  const row = user.rows[0];
  if (!row) return 'unknown_user';
  if (row.frozen && !request.ignoreFreeze) return 'user_frozen';
  return undefined;
}

/** Returns the customer's new balance, or undefined when a debit would overdraw the wallet. */
async function applyToCustomer(client: pg.PoolClient, request: PostingRequest): Promise<bigint | undefined> {
  const updated = await client.query<{ balance: string }>(
    `update accounts set balance = balance + $2::bigint, updated_at = now()
      where account_id = $1::text and balance + $2::bigint >= 0
      returning balance`,
    [customerAccountId(request.userId, request.currency), request.customerDeltaMinor.toString()],
  );
  if (updated.rowCount === 0) {
    if (request.customerDeltaMinor >= 0n) throw new Error(`wallet ${request.userId}/${request.currency} missing after open`);
    return undefined;
  }
  return BigInt(updated.rows[0]!.balance);
}

async function applyDelta(client: pg.PoolClient, accountId: string, deltaMinor: bigint): Promise<bigint> {
  const updated = await client.query<{ balance: string }>(
    'update accounts set balance = balance + $2::bigint, updated_at = now() where account_id = $1::text returning balance',
    [accountId, deltaMinor.toString()],
  );
  if (updated.rowCount !== 1) throw new Error(`system account ${accountId} missing`);
  return BigInt(updated.rows[0]!.balance);
}

/**
 * Inserts the posting row; when another attempt of the same leg committed first, the insert
 * does nothing and this attempt's changes are rolled back to a savepoint.
 */
async function recordOutcome(
  client: pg.PoolClient,
  request: Pick<PostingRequest, 'transferId' | 'leg' | 'workflowId' | 'runId'>,
  outcome: Outcome,
): Promise<PostingResult> {
  const inserted = await client.query(
    `insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text)
     on conflict (transfer_id, leg) do nothing`,
    [request.transferId, request.leg, outcome.outcome, outcome.outcome === 'refused' ? outcome.reason : null, request.workflowId, request.runId],
  );
  if (inserted.rowCount === 1) return { ...outcome, replayed: false };
  throw new LegAlreadyDecided();
}

/** Thrown inside a transaction when a concurrent attempt decided the leg first; the caller rolls back and re-reads. */
export class LegAlreadyDecided extends Error {
  override name = 'LegAlreadyDecided';
}

interface EntryLine {
  accountId: string;
  amount: bigint;
  balanceAfter: bigint;
  kind: string;
}

async function insertEntries(client: pg.PoolClient, request: PostingRequest, lines: EntryLine[]): Promise<void> {
  const inserted = await client.query(
    `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
     select $1::text, $2::text, line.account_id, $3::char(3), line.amount, line.balance_after, line.kind, $4::text, $5::text
       from unnest($6::text[], $7::bigint[], $8::bigint[], $9::text[]) as line(account_id, amount, balance_after, kind)`,
    [
      request.transferId,
      request.leg,
      request.currency,
      request.workflowId,
      request.runId,
      lines.map((line) => line.accountId),
      lines.map((line) => line.amount.toString()),
      lines.map((line) => line.balanceAfter.toString()),
      lines.map((line) => line.kind),
    ],
  );
  if (inserted.rowCount !== lines.length) throw new Error(`expected ${lines.length} entries, inserted ${inserted.rowCount}`);
}

export interface LegRecord {
  leg: Leg;
  outcome: Outcome['outcome'];
  reason: FailureReason | null;
  createdAt: Date;
}

/** The legs of a transfer that were decided on one shard (the sender's holds debit and refund, the recipient's the credit). */
export async function legsOf(client: pg.Pool | pg.PoolClient, transferId: string): Promise<LegRecord[]> {
  const found = await client.query<{ leg: Leg; outcome: Outcome['outcome']; reason: FailureReason | null; created_at: Date }>(
    'select leg, outcome, reason, created_at from postings where transfer_id = $1::text order by created_at, leg',
    [transferId],
  );
  return found.rows.map((row) => ({ leg: row.leg, outcome: row.outcome, reason: row.reason, createdAt: row.created_at }));
}
