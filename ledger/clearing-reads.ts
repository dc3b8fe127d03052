import type pg from 'pg';
import type { TransferStatus } from '../domain/transfers';

/**
 * Per-shard reads of the clearing accounts for reconciliation (ledger/clearing-in-flight.ts).
 *
 * A transfer's clearing entries are split over the shards of its two users, so its net can only
 * be summed across shards, and shipping every transfer's per-shard net each run would grow with
 * the ledger. Instead transfers are hashed into buckets, and each shard sums its clearing entries
 * per bucket, twice: plainly, and weighted by a second hash of the transfer id. Summed over
 * shards, a bucket is zero in both unless a transfer in it has a non-zero net (two transfers
 * cancelling in both sums at once would need equal 60-bit weights). Only such buckets are then
 * read transfer by transfer. md5 rather than PostgreSQL's internal hash, so every shard server
 * agrees on buckets whatever its version.
 */

/** First 32 bits of md5(transfer_id), modulo the bucket count ($1). */
const bucket_sql = `(('x' || substr(md5(transfer_id), 1, 8))::bit(32)::bigint % $1::int)::int`;
/** The next 60 bits: below 2^60, so weight times any bigint amount fits a numeric exactly. */
const weight_sql = `('x' || substr(md5(transfer_id), 9, 15))::bit(60)::bigint`;
/** Clearing accounts are few per shard; this lets entries be found through their account index. */
const clearing_entries = `entries where account_id in (select account_id from accounts where kind = 'clearing')`;

export interface ClearingBucketRow {
  currency: string;
  bucket: number;
  netMinor: bigint;
  /** Sum of amount × weight over the bucket's entries. */
  weightedMinor: bigint;
}

/** This shard's clearing entries summed per (currency, bucket); buckets that are zero in both sums are left out. */
export async function clearingBuckets(client: pg.ClientBase, bucketCount: number): Promise<ClearingBucketRow[]> {
  const found = await client.query<{ currency: string; bucket: number; net: string; weighted: string }>(
    `select currency, bucket, sum(amount)::text as net, sum(amount::numeric * weight)::text as weighted
       from (select currency, amount, ${bucket_sql} as bucket, ${weight_sql} as weight from ${clearing_entries}) c
      group by currency, bucket
     having sum(amount) <> 0 or sum(amount::numeric * weight) <> 0`,
    [bucketCount],
  );
  return found.rows.map((row) => ({
    currency: row.currency,
    bucket: row.bucket,
    netMinor: BigInt(row.net),
    weightedMinor: BigInt(row.weighted),
  }));
}

export interface TransferNetRow {
  transferId: string;
  currency: string;
  bucket: number;
  weight: bigint;
  /** This shard's part of the transfer's clearing net. */
  netMinor: bigint;
}

const net_columns = `transfer_id, currency, ${bucket_sql} as bucket, ${weight_sql}::text as weight, net::text as net`;

/** A net row as pg returns it: int8 and numeric come back as text. */
interface NetRowText {
  transfer_id: string;
  currency: string;
  bucket: number;
  weight: string;
  net: string;
}

function netRowOf(row: NetRowText): TransferNetRow {
  return {
    transferId: row.transfer_id,
    currency: row.currency,
    bucket: row.bucket,
    weight: BigInt(row.weight),
    netMinor: BigInt(row.net),
  };
}

/** This shard's non-zero clearing nets of the given transfers (a lookup by the entries' transfer_id key). */
export async function clearingNetsOf(
  client: pg.ClientBase,
  bucketCount: number,
  transferIds: readonly string[],
): Promise<TransferNetRow[]> {
  if (transferIds.length === 0) return [];
  const found = await client.query<NetRowText>(
    `select ${net_columns}
       from (select transfer_id, currency, sum(amount) as net from ${clearing_entries} and transfer_id = any($2::text[])
              group by transfer_id, currency having sum(amount) <> 0) t`,
    [bucketCount, transferIds],
  );
  return found.rows.map(netRowOf);
}

/**
 * This shard's non-zero clearing nets of every transfer in the given buckets: about
 * buckets / bucketCount of the shard's cross-shard transfers. A transfer whose entries on this
 * shard net to zero adds nothing to its sum over shards, so it is left out here (every
 * same-shard transfer that finished, for one).
 */
export async function clearingNetsInBuckets(
  client: pg.ClientBase,
  bucketCount: number,
  buckets: readonly number[],
): Promise<TransferNetRow[]> {
  if (buckets.length === 0) return [];
  const found = await client.query<NetRowText>(
    `select ${net_columns}
       from (select transfer_id, currency, sum(amount) as net from ${clearing_entries} and ${bucket_sql} = any($2::int[])
              group by transfer_id, currency having sum(amount) <> 0) t`,
    [bucketCount, buckets],
  );
  return found.rows.map(netRowOf);
}

/** Ids of this shard's transfer records still PENDING: their money may be in clearing. */
export async function pendingTransferIds(client: pg.ClientBase, limit: number): Promise<string[]> {
  const found = await client.query<{ transfer_id: string }>(
    `select transfer_id from transfers where status = 'PENDING' order by transfer_id limit $1::int`,
    [limit],
  );
  return found.rows.map((row) => row.transfer_id);
}

export interface TransferStateRow {
  transferId: string;
  /** The record's status, when this shard holds the record (the owner's shard). */
  status: TransferStatus | null;
  /** Reversal legs posted on this shard. */
  reversalLegs: ('reversal_debit' | 'reversal_credit')[];
}

/** What this shard knows of the given transfers: the record's status, and which reversal legs posted here. */
export async function transferStatesOf(
  client: pg.ClientBase,
  transferIds: readonly string[],
): Promise<TransferStateRow[]> {
  if (transferIds.length === 0) return [];
  const found = await client.query<{
    transfer_id: string;
    status: TransferStatus | null;
    reversal_legs: TransferStateRow['reversalLegs'];
  }>(
    `select id as transfer_id,
            (select t.status from transfers t where t.transfer_id = id) as status,
            array(select p.leg from postings p
                   where p.transfer_id = id and p.outcome = 'posted' and p.leg in ('reversal_debit', 'reversal_credit')
                   order by p.leg) as reversal_legs
       from unnest($1::text[]) as id`,
    [transferIds],
  );
  return found.rows.map((row) => ({
    transferId: row.transfer_id,
    status: row.status,
    reversalLegs: row.reversal_legs,
  }));
}
