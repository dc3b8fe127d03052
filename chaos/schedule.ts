import { pickIndex, seededRandom } from '../bench/load/prng';

export const fault_kinds = [
  'wallet_kill',
  'wallet_stop',
  'temporal_restart',
  'pg_restart',
  'pg_terminate',
  'crash_after_commit',
  'crash_after_debit',
] as const;
export type FaultKind = (typeof fault_kinds)[number];

export interface PlannedFault {
  index: number;
  kind: FaultKind;
  /** Injected once the workload has started this many operations (and the previous fault healed). */
  after_operations: number;
  /** The wallet process it hits (wallet faults). */
  wallet: number;
  /** The shard whose connections are cut (pg_terminate). */
  shard: number;
  /** How long the part stays down or stopped before it is brought back, in ms. */
  down_ms: number;
}

/** How long each kind keeps its part down: [least, most] ms. SIGSTOP always outlasts an activity attempt. */
function downRange(kind: FaultKind, activityTimeoutMs: number): [number, number] {
  switch (kind) {
    case 'wallet_kill':
      return [300, 2_500];
    case 'wallet_stop':
      return [activityTimeoutMs + 500, activityTimeoutMs * 2 + 1_000];
    case 'temporal_restart':
      return [500, 3_000];
    case 'pg_restart':
      return [500, 4_000];
    case 'pg_terminate':
      return [0, 0];
    case 'crash_after_commit':
    case 'crash_after_debit':
      return [0, 0];
  }
}

/**
 * The fault schedule a seed gives: `count` faults, each kind in turn (so a short run still has a
 * few of every kind), in a seeded order, at seeded points between 10% and 85% of the workload.
 * It depends on nothing but its arguments, so a seed always gives the same schedule.
 */
export function faultSchedule(
  seed: number,
  count: number,
  operations: number,
  wallets: number,
  shards: number,
  activityTimeoutMs: number,
): PlannedFault[] {
  // A stream of its own, so changing the workload's mix never moves the faults.
  const random = seededRandom(seed ^ 0x5eed_fa17);
  const kinds: FaultKind[] = Array.from({ length: count }, (_, index) => fault_kinds[index % fault_kinds.length]!);
  for (let index = kinds.length - 1; index > 0; index--) {
    const other = pickIndex(random, index + 1);
    [kinds[index], kinds[other]] = [kinds[other]!, kinds[index]!];
  }
  const first = Math.floor(operations * 0.1);
  const span = Math.max(1, Math.floor(operations * 0.75));
  return kinds.map((kind, index) => {
    const [least, most] = downRange(kind, activityTimeoutMs);
    const slot = span / Math.max(1, count);
    return {
      index,
      kind,
      after_operations: first + Math.floor(slot * index + random() * slot * 0.5),
      wallet: pickIndex(random, wallets),
      shard: pickIndex(random, shards),
      down_ms: least + Math.floor(random() * (most - least)),
    };
  });
}

export function describeFault(fault: PlannedFault): string {
  const what = {
    wallet_kill: `kill -9 wallet-${fault.wallet}, restart after ${fault.down_ms} ms`,
    wallet_stop: `SIGSTOP wallet-${fault.wallet} for ${fault.down_ms} ms, then SIGCONT`,
    temporal_restart: `kill -9 the Temporal dev server, restart after ${fault.down_ms} ms (SQLite kept)`,
    pg_restart: `stop -m immediate the second PostgreSQL server, start after ${fault.down_ms} ms`,
    pg_terminate: `pg_terminate_backend of the wallets' connections to shard ${fault.shard}`,
    crash_after_commit: `kill -9 wallet-${fault.wallet}, restart it armed: it kills itself after its first committed leg, then restart`,
    crash_after_debit: `kill -9 wallet-${fault.wallet}, restart it armed: it kills itself after its first debit that moved money (before the credit), then restart`,
  }[fault.kind];
  return `#${String(fault.index).padStart(2, '0')} after op ${String(fault.after_operations).padStart(5)}: ${what}`;
}
