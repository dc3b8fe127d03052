import type pg from 'pg';

/** Half-done reversals read per shard in one check; past it, the gauge counts at least this many. */
const half_reversed_read_max = 1_000;

/**
 * Reversals stuck between their two legs: the reversal debit (on the recipient's shard) posted
 * longer than olderThanMs ago and the reversal credit (on the sender's shard) not posted. The two
 * legs may be on different shards, so each shard names its old debits without a credit of its
 * own, and every shard is then asked which of those have their credit; the rest are half done.
 * Sorted, at most half_reversed_read_max per shard.
 */
export async function halfDoneReversals(shards: readonly pg.Pool[], olderThanMs: number): Promise<string[]> {
  const debits = (await Promise.all(shards.map((shard) => oldDebitsWithoutLocalCredit(shard, olderThanMs)))).flat();
  if (debits.length === 0) return [];
  const credited = new Set((await Promise.all(shards.map((shard) => reversalCreditsAmong(shard, debits)))).flat());
  return [...new Set(debits)].filter((id) => !credited.has(id)).sort();
}

async function oldDebitsWithoutLocalCredit(shard: pg.Pool, olderThanMs: number): Promise<string[]> {
  const found = await shard.query<{ transfer_id: string }>(
    `select d.transfer_id
       from postings d
      where d.leg = 'reversal_debit' and d.outcome = 'posted'
        and d.created_at < now() - $1::bigint * interval '1 millisecond'
        and not exists (select 1 from postings c
                         where c.transfer_id = d.transfer_id and c.leg = 'reversal_credit' and c.outcome = 'posted')
      order by d.created_at
      limit $2::int`,
    [olderThanMs, half_reversed_read_max],
  );
  return found.rows.map((row) => row.transfer_id);
}

async function reversalCreditsAmong(shard: pg.Pool, transferIds: readonly string[]): Promise<string[]> {
  const found = await shard.query<{ transfer_id: string }>(
    `select transfer_id from postings
      where transfer_id = any($1::text[]) and leg = 'reversal_credit' and outcome = 'posted'`,
    [transferIds],
  );
  return found.rows.map((row) => row.transfer_id);
}
