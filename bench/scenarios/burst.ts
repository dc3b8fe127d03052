import type { UnsettledRequest } from '../load/recorder';
import type { LoadTarget } from '../load/target';
import type { BenchUsers } from '../load/users';
import { transferPlanner } from '../load/workload';
import type { BenchOptions } from '../options';
import { openLoop, TransferGroup, type ScenarioResult } from './groups';

/**
 * Payroll day (issue 18): an open-loop background at `--rate` runs for the whole scenario; after
 * `--warmup` seconds of it, `--burst` transfers among all users are sent evenly within
 * `--burst-window` seconds. Reports refusals, how long until every burst transfer was final,
 * their completion latencies, and the background's latencies while the burst was in the system.
 */
export async function runBurst(
  options: BenchOptions,
  users: BenchUsers,
  runTag: string,
  target: LoadTarget,
): Promise<{ scenario: ScenarioResult; unsettled: UnsettledRequest[] }> {
  const planner = (seed: number) =>
    transferPlanner(users, { cross_shard_fraction: options.cross_shard_fraction, skew: options.skew, seed });
  const burstPlan = planner(options.seed);
  const backgroundPlan = planner(options.seed + 1_000);
  const burst = new TransferGroup('burst', target, (index) => `${runTag}-burst-${index}`);
  const background = {
    before: new TransferGroup('background before the burst', target, (index) => `${runTag}-bg-${index}`),
    during: new TransferGroup('background while the burst was in flight', target, (index) => `${runTag}-bg-${index}`),
    after: new TransferGroup('background after the burst was final', target, (index) => `${runTag}-bg-${index}`),
  };
  const t0_ms = performance.now() + 50;
  const burst_t0_ms = t0_ms + options.warmup_s * 1000;
  let burstDone = false;
  const burstRun = openLoop(burst_t0_ms, options.burst / options.burst_window_s, options.burst, (index, scheduled_ms) =>
    burst.send(burstPlan(), index, scheduled_ms),
  ).then(() => {
    burstDone = true;
  });
  const backgroundRun = openLoop(
    t0_ms,
    options.rate_per_s,
    Math.round((options.warmup_s + options.duration_s) * options.rate_per_s),
    (index, scheduled_ms) => {
      const group = scheduled_ms < burst_t0_ms ? background.before : burstDone ? background.after : background.during;
      return group.send(backgroundPlan(), index, scheduled_ms);
    },
  );
  await Promise.all([burstRun, backgroundRun]);
  const burstResult = burst.result();
  const unsettled = [burst, ...Object.values(background)].flatMap((group) => group.unsettled);
  const scenario: ScenarioResult = {
    name: 'burst',
    groups: [burstResult, background.before.result(), background.during.result(), background.after.result()],
    facts: {
      burst_transfers: options.burst,
      burst_window_s: options.burst_window_s,
      background_rate_per_s: options.rate_per_s,
      burst_refused: burstResult.refused,
      burst_all_final_after_s:
        burstResult.last_final_after_ms === null ? '-' : Math.round(burstResult.last_final_after_ms / 100) / 10,
    },
  };
  return { scenario, unsettled };
}
