import type pg from 'pg';

/**
 * Fault switches for tests and chaos (POST /admin/faults), in the bank's database so a restart
 * keeps them: an outage answers 503 to everything but /healthz and /admin until it ends;
 * duplicate delivery sends the file at a poll's cursor again with the next poll, and each credits
 * file it makes a second time under a new file id (bank/outgoing-files.ts); late delivery holds
 * new outgoing files back for a while.
 */
export interface Faults {
  outageUntil: Date | null;
  duplicateDelivery: boolean;
  lateDeliveryMs: number;
}

export async function readFaults(pool: pg.Pool): Promise<Faults> {
  const row = (
    await pool.query<{ outage_until: Date | null; duplicate_delivery: boolean; late_delivery_ms: number }>(
      'select outage_until, duplicate_delivery, late_delivery_ms from faults',
    )
  ).rows[0]!;
  return {
    outageUntil: row.outage_until,
    duplicateDelivery: row.duplicate_delivery,
    lateDeliveryMs: row.late_delivery_ms,
  };
}

export async function setFaults(
  pool: pg.Pool,
  change: { outageMs?: number; duplicateDelivery?: boolean; lateDeliveryMs?: number },
): Promise<Faults> {
  await pool.query(
    `update faults set
       outage_until = case when $1::int is null then outage_until
                           when $1::int = 0 then null
                           else now() + make_interval(secs => $1::float8 / 1000) end,
       duplicate_delivery = coalesce($2::boolean, duplicate_delivery),
       late_delivery_ms = coalesce($3::int, late_delivery_ms)`,
    [change.outageMs ?? null, change.duplicateDelivery ?? null, change.lateDeliveryMs ?? null],
  );
  return readFaults(pool);
}
