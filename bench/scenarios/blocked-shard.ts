import pg from 'pg';
import type { UnsettledRequest } from '../load/recorder';
import type { LoadTarget } from '../load/target';
import type { BenchUsers } from '../load/users';
import { transferPlanner, type TransferPlan } from '../load/workload';
import type { BenchOptions } from '../options';
import { openLoop, sleepMs, TransferGroup, type ScenarioResult } from './groups';

/**
 * One shard blocked (issue 18): an open loop at `--rate` for `--warmup` + `--duration` seconds;
 * after the warmup, the last shard's `accounts` table is locked for `--lock` seconds. Transfers
 * are reported apart by whether they touch the locked shard and whether they were sent while it
 * was locked: those among the other shards must keep their latency and never be refused.
 */
export async function runBlockedShard(
  options: BenchOptions,
  users: BenchUsers,
  runTag: string,
  target: LoadTarget,
  shardUrls: readonly string[],
): Promise<{ scenario: ScenarioResult; unsettled: UnsettledRequest[] }> {
  const lockedShard = shardUrls.length - 1;
  const lockedUsers = new Set(users.byShard[lockedShard]);
  const touchesLocked = (plan: TransferPlan) => lockedUsers.has(plan.fromUserId) || lockedUsers.has(plan.toUserId);
  const nextPlan = transferPlanner(users, {
    cross_shard_fraction: options.cross_shard_fraction,
    skew: options.skew,
    seed: options.seed,
  });
  const keyOf = (index: number) => `${runTag}-blocked-${index}`;
  const groups = {
    othersDuring: new TransferGroup('other shards, sent while locked', target, keyOf),
    lockedDuring: new TransferGroup('touching the locked shard, sent while locked', target, keyOf),
    othersOutside: new TransferGroup('other shards, sent before or after the lock', target, keyOf),
    lockedOutside: new TransferGroup('touching the locked shard, sent before or after the lock', target, keyOf),
  };
  const t0_ms = performance.now() + 50;
  const lock_from_ms = t0_ms + options.warmup_s * 1000;
  const lock_until_ms = lock_from_ms + options.lock_s * 1000;

  const locker = await lockLater(shardUrls[lockedShard]!, lock_from_ms, lock_until_ms);
  try {
    await openLoop(
      t0_ms,
      options.rate_per_s,
      Math.round((options.warmup_s + options.duration_s) * options.rate_per_s),
      (index, scheduled_ms) => {
        const plan = nextPlan();
        const during = scheduled_ms >= lock_from_ms && scheduled_ms < lock_until_ms;
        const group = touchesLocked(plan)
          ? during
            ? groups.lockedDuring
            : groups.lockedOutside
          : during
            ? groups.othersDuring
            : groups.othersOutside;
        return group.send(plan, index, scheduled_ms);
      },
    );
    await locker.held;
  } finally {
    await locker.end();
  }
  const results = Object.values(groups).map((group) => group.result());
  const othersDuring = results[0]!;
  const unsettled = Object.values(groups).flatMap((group) => group.unsettled);
  const scenario: ScenarioResult = {
    name: 'blocked-shard',
    groups: results,
    facts: {
      locked_shard: lockedShard,
      lock_s: options.lock_s,
      rate_per_s: options.rate_per_s,
      others_while_locked_p99_ms: othersDuring.completion.p99_ms,
      others_while_locked_refused: othersDuring.refused,
    },
  };
  return { scenario, unsettled };
}

/** Locks the shard's `accounts` from `from_ms` until `until_ms` (performance.now() times). */
async function lockLater(url: string, from_ms: number, until_ms: number) {
  const locker = new pg.Client({ connectionString: url, application_name: 'bench-locker' });
  locker.on('error', () => undefined);
  await locker.connect();
  const held = (async () => {
    await sleepMs(from_ms - performance.now());
    await locker.query('begin');
    await locker.query('lock table accounts in access exclusive mode');
    await sleepMs(until_ms - performance.now());
    await locker.query('rollback');
  })();
  return {
    held,
    async end() {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
    },
  };
}
