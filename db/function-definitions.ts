import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/**
 * The ledger's SQL functions as repeatable definitions (Flyway's repeatable migrations): each
 * function's one living definition is a file in db/functions/, a `create or replace function`.
 * They are applied after the numbered migrations, and a file runs again only when its text
 * changed, so a money rule changes as a diff of its own file. Numbered migrations keep tables,
 * constraints and signature changes (a new or dropped parameter, another return type: `create
 * or replace` cannot do those).
 *
 * A file removed from db/functions/ does not drop its function: dropping is a numbered
 * migration's job, where it is reviewed with the callers it breaks during a rolling deploy.
 */
const functions_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'functions');

/**
 * The order the files run in: callees before callers, so the body of a `language sql` function,
 * which PostgreSQL checks when it is created, finds what it calls even when both are new; a
 * reader also meets the rules from the bottom up. Every file must be listed here and every name
 * here must have a file, so a definition cannot be silently skipped.
 */
const function_order = [
  // Triggers and helpers that call none of the others.
  'refuse_ledger_rewrite',
  // The outbox (migration 1763769600110): the append, and the triggers that call it.
  'append_wallet_event',
  'lock_wallet_event_heads',
  'entry_wallet_event',
  'transfer_wallet_event',
  'user_wallet_event',
  'account_wallet_event',
  'payout_wallet_event',
  'payin_wallet_event',
  'assert_posting_balanced',
  'entry_chain_hash',
  'leg_outcome',
  'finish_transfer',
  'outgoing_last_day',
  'record_reversal',
  'close_wallet',
  // Their callers.
  'chain_entry',
  'chain_unchained_entries',
  'post_leg',
  'fence_debit',
  'expire_review',
  'record_review_decision',
  // Callers of post_leg and fence_debit.
  'refund_debit',
  'post_reversal_debit',
  // A payout's legs, callers of post_leg (ledger/payout-holds.ts).
  'hold_payout',
  'release_hold',
  'settle_hold',
  'return_settled',
  // A pay-in's deposit, a caller of post_leg (ledger/payins.ts).
  'credit_payin',
] as const;

/** Distinct from node-pg-migrate's lock key, so neither waits on the other by accident. */
const definitions_lock_key = 7_241_865_325_823_965n;

interface FunctionDefinition {
  name: string;
  sql: string;
  checksum: string;
}

/** Reads db/functions/ in function_order; throws when a file and the order list disagree. */
export function readFunctionDefinitions(directory = functions_dir): FunctionDefinition[] {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => file.slice(0, -'.sql'.length));
  const listed = new Set<string>(function_order);
  const unlisted = files.filter((name) => !listed.has(name));
  const missing = function_order.filter((name) => !files.includes(name));
  if (unlisted.length > 0 || missing.length > 0)
    throw new Error(
      `db/functions/ and function_order (db/function-definitions.ts) disagree: ` +
        `unlisted files [${unlisted.join(', ')}], listed without a file [${missing.join(', ')}]`,
    );
  return function_order.map((name) => {
    const sql = readFileSync(path.join(directory, `${name}.sql`), 'utf8');
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies the definitions whose checksum changed (or that never ran on this shard) and records
 * them, all in one transaction under an advisory lock: two migrators racing on one shard apply
 * one after the other, and the second finds nothing left to do. Returns the names it applied.
 */
export async function applyFunctionDefinitions(
  client: pg.ClientBase,
  definitions = readFunctionDefinitions(),
): Promise<string[]> {
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock($1::bigint)', [definitions_lock_key.toString()]);
    await client.query(`create table if not exists function_definitions (
      name       text primary key,
      checksum   text not null,
      applied_at timestamptz not null default now())`);
    const recorded = await client.query<{ name: string; checksum: string }>(
      'select name, checksum from function_definitions',
    );
    const checksums = new Map(recorded.rows.map((row) => [row.name, row.checksum]));
    const changed = definitions.filter((definition) => checksums.get(definition.name) !== definition.checksum);
    for (const definition of changed) {
      await client.query(definition.sql);
      await client.query(
        `insert into function_definitions (name, checksum) values ($1::text, $2::text)
         on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
        [definition.name, definition.checksum],
      );
    }
    await client.query('commit');
    return changed.map((definition) => definition.name);
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
