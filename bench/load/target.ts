import type { TransferPlan } from './workload';

/** Where a phase sends its transfers: the wallet's API, the engine floor, or raw PostgreSQL. */
export interface LoadTarget {
  readonly phase: PhaseName;
  /** Resolves when the transfer is accepted (the 202); `final` when acceptance already is the end. */
  submit(plan: TransferPlan, key: string, deadline_ms: number): Promise<{ transferId: string; final: boolean }>;
  /** Resolves when the transfer is COMPLETED; throws a RequestError for FAILED or a passed deadline. */
  awaitFinal(transferId: string, deadline_ms: number): Promise<void>;
}

export type PhaseName = 'transfers' | 'floor' | 'raw_pg';
