import type pg from 'pg';

/** Entries read per round trip while replaying; keyset-paged, so memory stays flat on any shard. */
export const replay_batch_size = 10_000;
/** Differences a report lists; the counts cover them all. */
const differences_listed_max = 100;

export interface BalanceDifference {
  accountId: string;
  currency: string;
  liveMinor: bigint;
  rebuiltMinor: bigint;
}

/** An entry whose recorded balance_after is not the running sum of its account's entries up to it. */
export interface BalanceAfterBreak {
  entryId: bigint;
  accountId: string;
  recordedMinor: bigint;
  replayedMinor: bigint;
}

export interface RebuildReport {
  accounts: number;
  entries: number;
  differences: BalanceDifference[];
  differenceCount: number;
  breaks: BalanceAfterBreak[];
  breakCount: number;
}

/**
 * Rebuilds a shard's read model from its log: replays every entry, account by account in the
 * order they were posted (entry_id; a wallet's entries are written under its row lock, so that
 * is commit order), into fresh balances, checks each entry's balance_after against the running
 * sum, and compares the rebuilt balances with the live `accounts.balance`. All in one
 * REPEATABLE READ read-only snapshot, so postings that land meanwhile are not half seen.
 */
export async function rebuildShard(client: pg.ClientBase): Promise<RebuildReport> {
  await client.query('begin isolation level repeatable read read only');
  try {
    const rebuilt = new Map<string, bigint>();
    const breaks: BalanceAfterBreak[] = [];
    let breakCount = 0;
    let entries = 0;
    for (let after: { accountId: string; entryId: string } | null = null; ;) {
      const page: { rows: { entry_id: string; account_id: string; amount: string; balance_after: string }[] } =
        await client.query(
          // Ordered by the bigint column (e.entry_id): an output column of the same name, cast to
          // text, would otherwise be what ORDER BY sorts on.
          `select e.entry_id::text as entry_id, e.account_id, e.amount::text as amount, e.balance_after::text as balance_after
           from entries e
          where ($1::text is null or (e.account_id, e.entry_id) > ($1::text, $2::bigint))
          order by e.account_id, e.entry_id
          limit $3::int`,
          [after?.accountId ?? null, after?.entryId ?? null, replay_batch_size],
        );
      for (const row of page.rows) {
        const running = (rebuilt.get(row.account_id) ?? 0n) + BigInt(row.amount);
        rebuilt.set(row.account_id, running);
        if (running !== BigInt(row.balance_after)) {
          breakCount++;
          if (breaks.length < differences_listed_max) {
            breaks.push({
              entryId: BigInt(row.entry_id),
              accountId: row.account_id,
              recordedMinor: BigInt(row.balance_after),
              replayedMinor: running,
            });
          }
        }
      }
      entries += page.rows.length;
      const last = page.rows.at(-1);
      if (!last || page.rows.length < replay_batch_size) break;
      after = { accountId: last.account_id, entryId: last.entry_id };
    }
    const live = await client.query<{ account_id: string; currency: string; balance: string }>(
      'select account_id, currency, balance::text from accounts order by account_id',
    );
    const differences: BalanceDifference[] = [];
    let differenceCount = 0;
    for (const account of live.rows) {
      const rebuiltMinor = rebuilt.get(account.account_id) ?? 0n;
      if (rebuiltMinor === BigInt(account.balance)) continue;
      differenceCount++;
      if (differences.length < differences_listed_max) {
        differences.push({
          accountId: account.account_id,
          currency: account.currency,
          liveMinor: BigInt(account.balance),
          rebuiltMinor,
        });
      }
    }
    return { accounts: live.rows.length, entries, differences, differenceCount, breaks, breakCount };
  } finally {
    await client.query('rollback');
  }
}
