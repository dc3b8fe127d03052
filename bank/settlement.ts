import type pg from 'pg';
import { withTransaction } from './database';

/**
 * Moves entries along the banking days, as the bank's clock says: an accepted entry is settled
 * (money leaves our settlement account) once its day has passed, unless the test matrix returns
 * it before settlement; a settled entry the matrix returns comes back (money returns) one day
 * later. Each step is one statement that changes the entry and writes its statement line
 * together, so a crash between ticks loses or repeats nothing (settlement_lines is unique per
 * kind and trace number).
 */
export async function settleDueEntries(pool: pg.Pool): Promise<{ settled: number; returned: number }> {
  return withTransaction(pool, async (client) => {
    const returnedUnsettled = await client.query(
      `update entries set status = 'RETURNED', returned_at = now()
       where status = 'ACCEPTED' and settle_at <= now() and return_at is not null and return_at <= settle_at`,
    );
    const settled = await updateAndPost(
      client,
      "update entries set status = 'SETTLED', settled_at = now() where status = 'ACCEPTED' and settle_at <= now()",
      'payout_settled',
    );
    const returnedSettled = await updateAndPost(
      client,
      "update entries set status = 'RETURNED', returned_at = now() where status = 'SETTLED' and return_at <= now()",
      'payout_returned',
    );
    return {
      settled: settled.rowCount ?? 0,
      returned: (returnedUnsettled.rowCount ?? 0) + (returnedSettled.rowCount ?? 0),
    };
  });
}

/**
 * One statement: the update (of entries, one of the two fixed texts above) and a statement line
 * for every entry it moved; money leaves the account on settlement and comes back on return.
 */
async function updateAndPost(
  client: pg.PoolClient,
  update: string,
  kind: 'payout_settled' | 'payout_returned',
): Promise<pg.QueryResult> {
  return client.query(
    `with moved as (${update} returning trace_number, amount_minor)
     insert into settlement_lines (kind, trace_number, amount_minor)
     select $1::text, trace_number, case when $1::text = 'payout_settled' then -amount_minor else amount_minor end
     from moved`,
    [kind],
  );
}
