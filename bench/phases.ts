import type pg from 'pg';
import { HttpClient } from './load/http';
import { runPhase, type PhaseResult } from './load/phase';
import type { UnsettledRequest } from './load/recorder';
import type { LoadTarget } from './load/target';
import type { BenchUsers } from './load/users';
import { transferPlanner } from './load/workload';
import type { BenchOptions } from './options';
import type { ProcessSampler } from './procfs/sampler';
import { waitForQuiet } from './settle';
import { bench_fx_currency, floor_routes, httpTransferTarget } from './targets/http-transfers';
import { rawPgTarget } from './targets/raw-pg';

export interface PhaseTargets {
  wallet: LoadTarget;
  floorOrigin: string | undefined;
  rawPool: pg.Pool | undefined;
}

/**
 * Transfers, then the engine floor, then raw PostgreSQL: the same load (mode, rate or
 * concurrency, durations) and the same sequence of transfers in each.
 */
export async function runPhases(
  options: BenchOptions,
  users: BenchUsers,
  runTag: string,
  targets: PhaseTargets,
  sampler: ProcessSampler,
): Promise<{ phases: PhaseResult[]; walletUnsettled: UnsettledRequest[] }> {
  const floorClient = targets.floorOrigin
    ? new HttpClient([targets.floorOrigin], 'floor-needs-no-token', options.outstanding_max)
    : undefined;
  const chosen: LoadTarget[] = [
    targets.wallet,
    ...(floorClient ? [httpTransferTarget('floor', floorClient, floor_routes, undefined, options.flow)] : []),
    ...(targets.rawPool ? [rawPgTarget(targets.rawPool)] : []),
  ];
  const phases: PhaseResult[] = [];
  let walletUnsettled: UnsettledRequest[] = [];
  try {
    for (const target of chosen) {
      // Each phase starts on an idle system, so no phase measures the stragglers of the one before.
      const settled = await waitForQuiet(sampler);
      console.error(
        `bench: ${target.phase} phase, ${options.warmup_s + options.duration_s} s (after ${settled.waited_s} s waiting for an idle system${settled.quiet ? '' : ', which never came'})`,
      );
      // Only the wallet converts: the floor and raw PostgreSQL have no FX to measure.
      const fx = target === targets.wallet ? { fx_fraction: options.fx_fraction, fx_currency: bench_fx_currency } : {};
      const planner = transferPlanner(users, {
        cross_shard_fraction: options.cross_shard_fraction,
        skew: options.skew,
        seed: options.seed,
        ...fx,
      });
      const { result, unsettled } = await runPhase(
        target,
        options,
        planner,
        (index) => `${runTag}-${target.phase}-${index}`,
        sampler,
        settled,
      );
      phases.push(result);
      if (target === targets.wallet) walletUnsettled = unsettled;
    }
  } finally {
    await floorClient?.close();
  }
  return { phases, walletUnsettled };
}
