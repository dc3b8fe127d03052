import type { TransferStatus } from '../domain/transfers';
import type { ChainRangeProblem } from './reconciliation-reads';

/**
 * The shape of a reconciliation run's report (ledger/reconciliation.ts makes it,
 * ledger/reconciliation-runs.ts stores it), apart from both so neither imports the other.
 */

/** Amounts are bigint minor units; field names are those of the stored report and the API. */
export type Discrepancy =
  | { kind: 'balance_mismatch'; shard: number; account_id: string; currency: string; stored: bigint; computed: bigint }
  | { kind: 'posting_unbalanced'; shard: number; transfer_id: string; leg: string; currency: string; sum: bigint }
  | { kind: 'shard_sum_nonzero'; shard: number; currency: string; sum: bigint }
  | { kind: 'currency_sum_nonzero'; currency: string; sum: bigint }
  | {
      kind: 'clearing_not_in_flight';
      transfer_id: string;
      currency: string;
      net: bigint;
      status: TransferStatus | null;
    }
  | { kind: 'clearing_unexplained'; currency: string; net: bigint; buckets: number }
  | { kind: 'clearing_total_mismatch'; currency: string; clearing: bigint; in_flight: bigint }
  /** stored: the shard's payouts_in_flight balance; computed: the sum of its open payout holds. */
  | { kind: 'payouts_in_flight_mismatch'; shard: number; currency: string; stored: bigint; computed: bigint }
  | {
      kind: 'chain_broken';
      shard: number;
      entry_id: string;
      account_id: string;
      currency: string;
      problem: ChainRangeProblem;
    };

export interface CurrencyTotals {
  currency: string;
  customer: bigint;
  clearing: bigint;
  settlement: bigint;
  /** The FX house's position in this currency: what conversions bought (positive) or sold (negative). */
  fx: bigint;
  /** Payouts held and not yet settled or released (the payouts_in_flight accounts). */
  payouts_in_flight: bigint;
  /** Money of transfers in flight, which the clearing balances should add up to. */
  in_flight: bigint;
  in_flight_transfers: number;
}

/** Where a run's chain check stopped on one shard: the next run goes on from here. */
export interface ChainProgress {
  shard: number;
  /** Every entry up to this id was checked when it was new. */
  checked_through: bigint;
  /** The sweep of older entries goes on after this id (0: from the start). */
  swept_through: bigint;
  entries_checked: number;
}

export interface ReconciliationReport {
  ok: boolean;
  shards: number;
  discrepancy_count: number;
  /** At most discrepancies_listed_max, in the order of the checks. */
  discrepancies: Discrepancy[];
  currencies: CurrencyTotals[];
  chain: ChainProgress[];
}
