import pg from 'pg';
import { shardForUser } from '../../domain/shard-routing';
import { RequestError } from '../load/errors';
import type { LoadTarget } from '../load/target';
import type { TransferPlan } from '../load/workload';
import { sleepMs } from './groups';

/** How often the shards are asked which watched transfers became final: the resolution of completion times. */
const watch_interval_ms = 100;

/**
 * Learns that transfers became final by reading the shards' `transfers` rows, a few queries a
 * tenth of a second for all of them, instead of one `?wait` request per transfer: 3,000 open
 * waits re-read their records every second and would themselves be a load of 3,000 reads/s.
 * Transfers are still submitted through the API (`submit` is the HTTP target's).
 */
export function ledgerWatchedTarget(http: LoadTarget, shardUrls: readonly string[]) {
  const pools = shardUrls.map((connectionString) => new pg.Pool({ connectionString, max: 1 }));
  const watched = shardUrls.map(() => new Map<string, { resolve: () => void; reject: (error: Error) => void }>());
  const shardOf = new Map<string, number>();
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      await sleepMs(watch_interval_ms);
      await Promise.all(
        watched.map((waiting, shard) =>
          waiting.size > 0 ? check(shard, waiting).catch(() => undefined) : Promise.resolve(),
        ),
      );
    }
  })();

  async function check(shard: number, waiting: Map<string, { resolve: () => void; reject: (error: Error) => void }>) {
    const { rows } = await pools[shard]!.query<{ transfer_id: string; status: string; failure_reason: string | null }>(
      `select transfer_id, status, failure_reason from transfers
        where transfer_id = any($1::text[]) and status in ('COMPLETED', 'FAILED', 'REVERSED')`,
      [[...waiting.keys()]],
    );
    for (const row of rows) {
      const waiter = waiting.get(row.transfer_id)!;
      waiting.delete(row.transfer_id);
      if (row.status === 'COMPLETED') waiter.resolve();
      else waiter.reject(new RequestError(`failed_${row.failure_reason ?? row.status.toLowerCase()}`));
    }
  }

  const target: LoadTarget = {
    phase: http.phase,
    async submit(plan: TransferPlan, key: string, deadline_ms: number) {
      const accepted = await http.submit(plan, key, deadline_ms);
      shardOf.set(accepted.transferId, shardForUser(plan.fromUserId, shardUrls.length));
      return accepted;
    },
    awaitFinal(transferId: string, deadline_ms: number) {
      const shard = shardOf.get(transferId)!;
      shardOf.delete(transferId);
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            watched[shard]!.delete(transferId);
            reject(new RequestError('not_final', true));
          },
          Math.max(0, deadline_ms - performance.now()),
        );
        watched[shard]!.set(transferId, {
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
      });
    },
  };
  return {
    target,
    async stop() {
      stopped = true;
      await watching;
      await Promise.all(pools.map((pool) => pool.end()));
    },
  };
}
