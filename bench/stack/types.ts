import type { PartSpec } from '../procfs/sampler';

/** What the load generator and the checks need to know about the system under test. */
export interface BenchStack {
  kind: 'throwaway' | 'target';
  walletOrigins: string[];
  tokenSecret: string;
  temporalAddress: string;
  shardCount: number;
  /** The shard databases, when the bench owns them (throwaway): the ledger is checked directly. */
  shardUrls: string[] | null;
  /** The wallet's task queue, when the bench started the wallet (throwaway): `--payouts` runs the cutoff and the feed on it. */
  taskQueue: string | null;
  /** Server for the raw PostgreSQL baseline's database. */
  rawPgServer: string;
  /** Processes to measure: Temporal, the wallet process(es), PostgreSQL. */
  parts: PartSpec[];
  /** Facts the report should state (a part that could not be found, an assumption made). */
  notes: string[];
}

/** PG_URL's server: where `npm start` keeps its shards and where the bench's own databases go by default. */
export function defaultPgServer(): string {
  return (process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').replace(/\/[A-Za-z0-9_]+(\?\S*)?$/, '');
}
