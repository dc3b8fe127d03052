import type { BenchOptions } from '../options';
import { pidsMatching } from '../procfs/read';
import type { PartSpec } from '../procfs/sampler';
import { waitForHttpReady } from './children';
import { localPidOf } from './throwaway';
import { defaultPgServer, type BenchStack } from './types';

/** The development AUTH_SECRET documented in the README (config/index.ts), for a target started with `npm start`. */
const dev_auth_secret = 'dev-only-wallet-secret-change-me-0123456789';

/**
 * A deployment the user runs (`npm start`, or their own): the bench only sends to it. Processes
 * are found by the ports they listen on (wallet URLs, TEMPORAL_ADDRESS), by command line for
 * Temporal as a fallback, and by `--pids` for anything else (e.g. workers of a split deployment).
 */
export async function connectTarget(options: BenchOptions): Promise<BenchStack> {
  const notes: string[] = [];
  await Promise.all(options.targets.map((origin) => waitForHttpReady(`${origin}/readyz`, undefined, 10_000)));
  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  if (!process.env.TEMPORAL_ADDRESS)
    notes.push(`TEMPORAL_ADDRESS is not set: assumed the target's Temporal is ${temporalAddress} (npm start's)`);

  const named = new Map<string, number[]>();
  const add = (name: string, pid: number) => named.set(name, [...(named.get(name) ?? []), pid]);
  for (const { name, pid } of options.pids) add(name, pid);
  if (!named.has('wallet')) {
    for (const origin of options.targets) {
      const pid = localPidOf(origin);
      if (pid === undefined)
        notes.push(`no local process listens for ${origin}: name it with --pids wallet=PID to measure it`);
      else add('wallet', pid);
    }
  }
  if (!named.has('temporal')) {
    const pid = localPidOf(`grpc://${temporalAddress}`) ?? pidsMatching(/temporal server start-dev|temporal-server/)[0];
    if (pid === undefined)
      notes.push(`no local Temporal process found for ${temporalAddress}: name it with --pids temporal=PID`);
    else add('temporal', pid);
  }
  const parts: PartSpec[] = [...named].map(([name, pids]) => ({ name, pids }));
  parts.push({ name: 'postgres', postgres: true });
  notes.push('PostgreSQL is every local postgres process: other databases on the same server are counted too');
  return {
    kind: 'target',
    walletOrigins: options.targets,
    tokenSecret: options.token_secret ?? process.env.AUTH_SECRET ?? dev_auth_secret,
    temporalAddress,
    shardCount: options.shards,
    shardUrls: null,
    taskQueue: null,
    rawPgServer: defaultPgServer(),
    parts,
    notes,
  };
}
