import pg from 'pg';
import { shardForUser } from '../domain/shard-routing';
import { watchConnection } from './connection-errors';
import { withPoolTransaction } from './pool-transaction';

const pool_wait_max_ms = 5_000;

/**
 * An idle connection is closed after this. pg's default (10 s) closed and reopened connections
 * all the time under a steady load: the pool hands out the most recently used connection first,
 * so the ones at the bottom of its stack sat idle past 10 s between peaks, were closed, and the
 * next peak opened them again, each time a TCP connect, a PostgreSQL backend forked, the
 * authentication and every named statement prepared again (docs/performance.md, "The wallet's
 * own cost"). A minute keeps a loaded pool's connections open and still hands back a burst's.
 */
const pool_idle_max_ms = 60_000;
/** Callers that may queue for a shard's connections, per connection of its pool. */
const shard_waiting_per_connection = 3;

/** Server-side caps on each connection of a shard pool (the wallet process derives them from ACTIVITY_TIMEOUT_MS). */
export interface ShardTimeouts {
  /** Each statement ends after this: an attempt blocked on a lock fails before its activity times out. */
  statementTimeoutMs?: number;
  /** Each lock wait ends after this, well before the statement cap: a leg blocked on a row lock gives back its worker slot and connection and is retried. */
  lockTimeoutMs?: number;
}

/**
 * Refused at once, before waiting, because the shard already has as many callers waiting for a
 * connection as it has connections: the shard is slow or blocked, and one more waiter would only
 * hold a worker slot that legs on the other shards need. Retryable like any lost connection.
 */
export class ShardBusyError extends Error {
  override name = 'ShardBusyError';
  readonly code = 'shard_busy';
}

/**
 * A pg.Pool that bounds its queue of callers waiting for a connection (`pool.query` goes through
 * `connect` too). Without the bound, legs for one blocked shard pile up in the worker's
 * local-activity slots, each waiting its turn for a connection, until no slot is left for the
 * other shards (issue 9: one shard's locked table stalled transfers on every shard).
 */
class BoundedPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    private readonly waitingMax: number,
    private readonly label: string,
  ) {
    super(config);
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): void;
  override connect(
    callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): Promise<pg.PoolClient> | void {
    if (this.waitingCount >= this.waitingMax) {
      const error = new ShardBusyError(
        `${this.label}: all ${this.options.max} connections busy and ${this.waitingCount} callers waiting`,
      );
      if (!callback) return Promise.reject(error);
      process.nextTick(() => callback(error, undefined, () => undefined));
      return;
    }
    return callback ? super.connect(callback) : super.connect();
  }
}

/**
 * The shard databases, one pool each. Callers route by user id and never pick a shard by hand.
 * int8 columns come back from pg as strings on purpose; stores convert them to bigint.
 */
export class ShardSet {
  readonly pools: readonly pg.Pool[];
  /** Callers that may wait for a connection of one shard; past it, connect fails at once (ShardBusyError). */
  readonly waitingMax: number;

  constructor(
    readonly urls: readonly string[],
    readonly poolSize = 10,
    timeouts: ShardTimeouts = {},
  ) {
    if (urls.length === 0) throw new Error('at least one shard is required');
    if (
      timeouts.lockTimeoutMs !== undefined &&
      timeouts.statementTimeoutMs !== undefined &&
      timeouts.lockTimeoutMs > timeouts.statementTimeoutMs
    ) {
      throw new Error(
        `lock timeout (${timeouts.lockTimeoutMs} ms) must not exceed the statement timeout (${timeouts.statementTimeoutMs} ms)`,
      );
    }
    // Generous enough for a burst's legs on a healthy shard (one leg per transfer at a time; 40
    // racing debits in test/ledger.test.ts; transfer requests queue in api/shard-gate.ts and use
    // at most poolSize of it), and still a bound: a blocked shard's legs fail at once past it
    // instead of filling the worker's slots.
    this.waitingMax = shard_waiting_per_connection * poolSize;
    this.pools = urls.map((connectionString, index) => {
      const pool = new BoundedPool(
        {
          connectionString,
          max: poolSize,
          // A request or activity waiting this long for a connection fails and is retried, rather than hanging.
          connectionTimeoutMillis: pool_wait_max_ms,
          idleTimeoutMillis: pool_idle_max_ms,
          // Idle connections do not keep a process alive (a script that forgets close() still exits).
          allowExitOnIdle: true,
          application_name: `wallet-shard-${index}`,
          ...(timeouts.statementTimeoutMs === undefined ? {} : { statement_timeout: timeouts.statementTimeoutMs }),
          ...(timeouts.lockTimeoutMs === undefined ? {} : { lock_timeout: timeouts.lockTimeoutMs }),
        },
        this.waitingMax,
        `shard ${index}`,
      );
      // Every client, idle or checked out, logs a lost connection instead of crashing the process
      // (db/connection-errors.ts). The pool re-emits an idle client's error: already logged.
      pool.on('connect', (client) => watchConnection(client, `shard ${index}`));
      pool.on('error', () => undefined);
      return pool;
    });
  }

  /**
   * Ledger legs one worker runs at once (its local-activity slots). One shard can hold at most
   * poolSize + waitingMax of them (on connections and waiting); the slots are that plus a full
   * pool for every other shard, so a blocked shard never takes the slots the others need.
   */
  get legSlots(): number {
    return this.poolSize + this.waitingMax + this.poolSize * (this.count - 1);
  }

  get count(): number {
    return this.pools.length;
  }

  shardOf(userId: string): number {
    return shardForUser(userId, this.count);
  }

  /** The shards whose ledgers a transfer between these parties touches, each once (a deposit or withdrawal has one party). */
  shardsOfParties(parties: { fromUserId: string | null; toUserId: string | null }): number[] {
    const userIds = [parties.fromUserId, parties.toUserId].filter((userId): userId is string => userId !== null);
    return [...new Set(userIds.map((userId) => this.shardOf(userId)))];
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

  withTransaction<T>(shard: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withPoolTransaction(this.pool(shard), work);
  }

  /** Throws unless every shard answers; used by /readyz. */
  async ping(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.query('select 1')));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end()));
  }
}
