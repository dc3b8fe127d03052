import type { ChaosClient } from './client';
import { sleep } from './client';
import type { InvariantResult } from './invariants';

/** The neighbour's pace: well past a customer's RATE_LIMIT_CUSTOMER (300 a minute per process). */
const neighbour_requests_per_s = 25;
export const neighbour_user_id = 'chaos_noisy_neighbour';

export interface NeighbourTally {
  sent: number;
  /** Answers by status (0: the exchange was lost to a fault). */
  by_status: Record<string, number>;
}

/**
 * A customer in a loop: reads its balance as fast as its pace allows for the whole run, through
 * every fault. It must be answered 429 rate_limited, and no other caller may be: the limit is
 * per caller, and everyone else keeps being served.
 */
export function runNoisyNeighbour(client: ChaosClient, finished: () => boolean): Promise<NeighbourTally> {
  const tally: NeighbourTally = { sent: 0, by_status: {} };
  const run = async () => {
    const pauseMs = 1000 / neighbour_requests_per_s;
    while (!finished()) {
      // Always the first wallet process: the limit is per process, and spread over all of them
      // (with the workload's turns) a latency-bound loop could stay under each one's limit.
      const answer = await client.onceTo(0, 'GET', `/v1/wallet/${neighbour_user_id}/balance`, {
        sub: neighbour_user_id,
        role: 'customer',
      });
      tally.sent++;
      tally.by_status[answer.status] = (tally.by_status[answer.status] ?? 0) + 1;
      await sleep(pauseMs);
    }
    return tally;
  };
  return run();
}

/** Invariant 9: the neighbour was slowed down, and nobody else was. */
export function callerIsolation(tally: NeighbourTally, workloadRetried: Record<string, number>): InvariantResult {
  const limited = tally.by_status['429'] ?? 0;
  const othersLimited = workloadRetried.http_429_rate_limited ?? 0;
  const broken: string[] = [];
  if (limited === 0) broken.push(`the neighbour sent ${tally.sent} requests and was never limited`);
  if (othersLimited > 0) broken.push(`the workload's callers were answered 429 ${othersLimited} times`);
  const statuses = Object.entries(tally.by_status)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  return {
    id: 9,
    name: 'a caller over its rate limit is limited alone',
    held: broken.length === 0,
    figures: `neighbour sent ${tally.sent} (${statuses}); workload callers answered 429: ${othersLimited}`,
    examples: broken,
  };
}
