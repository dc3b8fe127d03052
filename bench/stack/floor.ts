import { freePort } from '../../supervisor/dev-server';
import type { Cleanup } from '../cleanup';
import { spawnBenchChild, waitForHttpReady, type BenchChild } from './children';

const ready_timeout_ms = 120_000;

/**
 * Starts the engine-floor process (bench/floor/main.ts) against the same Temporal server as the
 * wallet, on a task queue of its own. Its local-activity limit is the wallet worker's (the shard
 * pool size), so the two workers differ only in what their activities do.
 */
export async function startFloor(
  temporalAddress: string,
  logDir: string,
  cleanup: Cleanup,
  /** `--cpu-prof`: profile the floor as the wallet is profiled. */
  cpuProfDir: string | null,
): Promise<BenchChild & { origin: string }> {
  const port = await freePort();
  const child = spawnBenchChild(
    'floor',
    ['bench/floor/main.ts'],
    {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      FLOOR_TASK_QUEUE: `bench-floor-${process.pid}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      FLOOR_LOCAL_ACTIVITIES_MAX: process.env.SHARD_POOL_SIZE ?? '10',
    },
    logDir,
    cleanup,
    cpuProfDir,
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttpReady(`${origin}/readyz`, child, ready_timeout_ms);
  return { ...child, origin };
}
