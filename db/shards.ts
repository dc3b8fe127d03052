import pg from 'pg';
import { shardForUser } from '../domain/shard-routing';

const pool_wait_max_ms = 5_000;

/**
 * The shard databases, one pool each. Callers route by user id and never pick a shard by hand.
 * int8 columns come back from pg as strings on purpose; stores convert them to bigint.
 */
export class ShardSet {
  readonly pools: readonly pg.Pool[];

  constructor(
    readonly urls: readonly string[],
    readonly poolSize = 10,
    /** Server-side cap on each statement, so an attempt blocked on a lock ends before its activity times out. */
    statementTimeoutMs?: number,
  ) {
    if (urls.length === 0) throw new Error('at least one shard is required');
    this.pools = urls.map((connectionString, index) => {
      const pool = new pg.Pool({
        connectionString,
        max: poolSize,
        // A request or activity waiting this long for a connection fails and is retried, rather than hanging.
        connectionTimeoutMillis: pool_wait_max_ms,
        application_name: `wallet-shard-${index}`,
        ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
      });
      // An idle client losing its connection (a shard restart) must not crash the process.
      pool.on('error', () => undefined);
      return pool;
    });
  }

  get count(): number {
    return this.pools.length;
  }

  shardOf(userId: string): number {
    return shardForUser(userId, this.count);
  }

  pool(shard: number): pg.Pool {
    const pool = this.pools[shard];
    if (!pool) throw new Error(`no shard ${shard} (have ${this.count})`);
    return pool;
  }

  async withClient<T>(shard: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool(shard).connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  async withTransaction<T>(shard: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(shard, async (client) => {
      await client.query('begin');
      try {
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Throws unless every shard answers; used by /readyz. */
  async ping(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.query('select 1')));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end()));
  }
}
