import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { TransferStatus } from '../domain/transfers';
import {
  clearingBuckets,
  clearingNetsInBuckets,
  clearingNetsOf,
  pendingTransferIds,
  transferStatesOf,
  type TransferNetRow,
  type TransferStateRow,
} from './clearing-reads';

/**
 * Clearing is money in transit: a transfer's clearing entries, summed over all shards, are
 * non-zero only while the transfer is legitimately in flight, that is while its record is still
 * PENDING, or while a reversal is between its two legs (reversal_debit posted, reversal_credit
 * not yet). Any other transfer with a non-zero net has lost or made money in clearing.
 *
 * Shards are separate databases, so the per-shard snapshots are not one moment: a transfer can
 * look half done because one shard was read just before its next leg committed. Transfers that
 * look wrong in the snapshots are therefore read again, a few times with a short pause, before
 * they count as discrepancies.
 */

/** Buckets the transfers are hashed into (clearing-reads.ts); each shard sends at most this many sums per currency. */
const clearing_bucket_count = 4_096;
/**
 * Buckets with unexplained money read transfer by transfer in one run; past it, what they hold
 * is reported as one `clearing_unexplained` line per currency. Each bucket read ships about
 * 1/clearing_bucket_count of the cross-shard transfers.
 */
export const clearing_buckets_read_max = 64;
/** PENDING records read per shard; any past it are found through their buckets instead, at a higher cost. */
const pending_transfers_read_max = 10_000;
/** Reads of a suspect transfer after the snapshot, and the pause before each. */
const suspect_rereads_max = 3;
const suspect_reread_pause_ms = 250;

export interface TransferNet {
  transferId: string;
  currency: string;
  bucket: number;
  weight: bigint;
  netMinor: bigint;
}

export interface ClearingSnapshot {
  /** Non-zero nets of transfers whose record was PENDING: money in flight. */
  pending: TransferNet[];
  /** Non-zero nets of other transfers: in flight only if a re-read says so. */
  suspects: TransferNet[];
  /** Per currency, what buckets past clearing_buckets_read_max hold beyond the pending transfers. */
  unexplained: { currency: string; netMinor: bigint; buckets: number }[];
}

/** Reads the clearing picture inside the callers' per-shard snapshots (one connection per shard, shard order). */
export async function readClearingSnapshot(snapshots: readonly pg.ClientBase[]): Promise<ClearingSnapshot> {
  const [bucketRows, pendingIds] = await Promise.all([
    Promise.all(snapshots.map((client) => clearingBuckets(client, clearing_bucket_count))),
    Promise.all(snapshots.map((client) => pendingTransferIds(client, pending_transfers_read_max))).then((ids) => [
      ...new Set(ids.flat()),
    ]),
  ]);
  const pending = nonZero(
    sumOverShards(
      await Promise.all(snapshots.map((client) => clearingNetsOf(client, clearing_bucket_count, pendingIds))),
    ),
  );

  // What each bucket holds beyond the pending transfers: zero, unless a transfer in it is off.
  const residual = new Map<string, { currency: string; bucket: number; netMinor: bigint; weightedMinor: bigint }>();
  const add = (currency: string, bucket: number, netMinor: bigint, weightedMinor: bigint) => {
    const key = `${currency}:${bucket}`;
    const sum = residual.get(key) ?? { currency, bucket, netMinor: 0n, weightedMinor: 0n };
    sum.netMinor += netMinor;
    sum.weightedMinor += weightedMinor;
    residual.set(key, sum);
  };
  for (const row of bucketRows.flat()) add(row.currency, row.bucket, row.netMinor, row.weightedMinor);
  for (const net of pending) add(net.currency, net.bucket, -net.netMinor, -net.netMinor * net.weight);
  const off = [...residual.values()].filter((sum) => sum.netMinor !== 0n || sum.weightedMinor !== 0n);

  const buckets = [...new Set(off.map((sum) => sum.bucket))].sort((a, b) => a - b);
  const read = new Set(buckets.slice(0, clearing_buckets_read_max));
  const pendingKeys = new Set(pending.map(keyOf));
  const drilled = nonZero(
    sumOverShards(
      await Promise.all(snapshots.map((client) => clearingNetsInBuckets(client, clearing_bucket_count, [...read]))),
    ),
  );
  return {
    pending,
    suspects: drilled.filter((net) => !pendingKeys.has(keyOf(net))),
    unexplained: unexplainedPerCurrency(off.filter((sum) => !read.has(sum.bucket))),
  };
}

function unexplainedPerCurrency(sums: { currency: string; netMinor: bigint }[]): ClearingSnapshot['unexplained'] {
  const perCurrency = new Map<string, { currency: string; netMinor: bigint; buckets: number }>();
  for (const sum of sums) {
    const line = perCurrency.get(sum.currency) ?? { currency: sum.currency, netMinor: 0n, buckets: 0 };
    line.netMinor += sum.netMinor;
    line.buckets += 1;
    perCurrency.set(sum.currency, line);
  }
  return [...perCurrency.values()];
}

export interface ConfirmedSuspects {
  /** Non-zero nets of transfers not in flight at any read: discrepancies. */
  confirmed: (TransferNet & { status: TransferStatus | null })[];
  /** Suspects a re-read found in flight or settled: their snapshot net was money in flight. */
  cleared: TransferNet[];
}

/**
 * Reads the suspects again, outside any snapshot. Each round reads what the transfers are
 * (records, reversal legs) on every shard before their nets: legs commit before the record that
 * they make final, so a transfer seen final has all its legs in the nets read after.
 */
export async function confirmSuspects(
  connections: readonly pg.ClientBase[],
  suspects: readonly TransferNet[],
  pauseMs = suspect_reread_pause_ms,
): Promise<ConfirmedSuspects> {
  let open: (TransferNet & { status: TransferStatus | null })[] = suspects.map((net) => ({ ...net, status: null }));
  for (let round = 0; round < suspect_rereads_max && open.length > 0; round++) {
    await sleep(pauseMs);
    const ids = [...new Set(open.map((net) => net.transferId))];
    const states = mergeStates(await Promise.all(connections.map((client) => transferStatesOf(client, ids))));
    const nets = new Map(
      sumOverShards(
        await Promise.all(connections.map((client) => clearingNetsOf(client, clearing_bucket_count, ids))),
      ).map((net) => [keyOf(net), net]),
    );
    open = open.flatMap((net) => {
      const now = nets.get(keyOf(net));
      const state = states.get(net.transferId);
      if (!now || now.netMinor === 0n || (state && isInFlight(state))) return [];
      return [{ ...now, status: state?.status ?? null }];
    });
  }
  const confirmedKeys = new Set(open.map(keyOf));
  return { confirmed: open, cleared: suspects.filter((net) => !confirmedKeys.has(keyOf(net))) };
}

interface TransferState {
  status: TransferStatus | null;
  reversalLegs: Set<string>;
}

/** A transfer whose money may legitimately sit in clearing now. */
function isInFlight(state: TransferState): boolean {
  return (
    state.status === 'PENDING' ||
    (state.reversalLegs.has('reversal_debit') && !state.reversalLegs.has('reversal_credit'))
  );
}

/** The record is on one shard (its owner's); reversal legs are on the two users' shards. */
function mergeStates(perShard: TransferStateRow[][]): Map<string, TransferState> {
  const states = new Map<string, TransferState>();
  for (const row of perShard.flat()) {
    const state = states.get(row.transferId) ?? { status: null, reversalLegs: new Set<string>() };
    state.status ??= row.status;
    for (const leg of row.reversalLegs) state.reversalLegs.add(leg);
    states.set(row.transferId, state);
  }
  return states;
}

function keyOf(net: { transferId: string; currency: string }): string {
  return `${net.transferId}\u0000${net.currency}`;
}

/** Adds up each transfer's per-shard parts. */
function sumOverShards(perShard: TransferNetRow[][]): TransferNet[] {
  const sums = new Map<string, TransferNet>();
  for (const row of perShard.flat()) {
    const key = keyOf(row);
    const sum = sums.get(key);
    if (sum) sum.netMinor += row.netMinor;
    else sums.set(key, { ...row });
  }
  return [...sums.values()];
}

function nonZero(nets: TransferNet[]): TransferNet[] {
  return nets.filter((net) => net.netMinor !== 0n);
}
