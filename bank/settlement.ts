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
    const settled = await client.query(
      `with settled as (
         update entries set status = 'SETTLED', settled_at = now()
         where status = 'ACCEPTED' and settle_at <= now()
         returning trace_number, amount_minor)
       insert into settlement_lines (kind, trace_number, amount_minor)
       select 'payout_settled', trace_number, -amount_minor from settled`,
    );
    const returnedSettled = await client.query(
      `with returned as (
         update entries set status = 'RETURNED', returned_at = now()
         where status = 'SETTLED' and return_at <= now()
         returning trace_number, amount_minor)
       insert into settlement_lines (kind, trace_number, amount_minor)
       select 'payout_returned', trace_number, amount_minor from returned`,
    );
    return {
      settled: settled.rowCount ?? 0,
      returned: (returnedUnsettled.rowCount ?? 0) + (returnedSettled.rowCount ?? 0),
    };
  });
}
