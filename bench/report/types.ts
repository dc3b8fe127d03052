import type { PhaseResult } from '../load/phase';
import type { PayoutStages } from '../payouts';
import type { BenchOptions } from '../options';
import type { ApiCheck } from '../verify/api';
import type { LedgerCheck } from '../verify/ledger';
import type { ScenarioResult } from '../scenarios/groups';
import type { PhaseRatios } from './ratios';

export interface BenchReport {
  started_at: string;
  finished_at: string;
  options: BenchOptions;
  environment: { node: string; cpus: number; load_average_at_start: number[]; git_commit: string | null };
  stack: {
    kind: 'throwaway' | 'target';
    wallet_origins: string[];
    temporal_address: string;
    shards: number;
    parts: Record<string, number[] | 'all postgres processes'>;
  };
  notes: string[];
  phases: PhaseResult[];
  /** --mode burst or blocked-shard: the scenario's groups of transfers, instead of phases. */
  scenario: ScenarioResult | null;
  /** --payouts: each stage's seconds, after the phases, on the same stack. */
  payouts: PayoutStages | null;
  ratios: { transfer_to_floor: PhaseRatios | null; transfer_to_pg: PhaseRatios | null };
  checks: {
    /** The shard databases (throwaway stack). */
    ledger: LedgerCheck | null;
    /** Through the API (`--target`). */
    api: ApiCheck | null;
    raw_pg: LedgerCheck | null;
    conserved: boolean;
    all_final: boolean;
  };
}
