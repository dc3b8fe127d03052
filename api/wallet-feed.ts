import type { Response } from 'express';
import type { ShardSet } from '../db/shards';
import { wallet_events_page_max } from '../domain/wallet-events';
import { walletEventHeads, walletEventsAfter } from '../ledger/wallet-events';

/**
 * The live feed of a wallet's events (GET /v1/wallet/{user_id}/events, Server-Sent Events). Every
 * feed reads the outbox (ledger/wallet-events.ts) by sequence number, so a reconnect, another
 * process or a restart loses nothing. New events are found by polling: each process asks each
 * shard, every feed_poll_ms and only while feeds are open, for the heads of the wallets its
 * feeds follow, one query per shard however many feeds (an index probe per wallet). NOTIFY from
 * the posting transaction would take PostgreSQL's notify queue lock in every commit, which
 * serializes committing transactions; the transfer path is worth more than the poll's delay.
 */

/** How often open feeds look for new events: an open feed hears of an event within this. */
const feed_poll_ms = 200;
/** A feed quiet this long writes a comment line, so proxies and clients know it is alive. */
const feed_keepalive_ms = 15_000;
/** A feed ends after this long; the client reconnects with Last-Event-ID (and a stopping process is not held up long). */
const feed_lifetime_ms = 5 * 60_000;
/** Feeds one process holds open at once, all callers together; more are refused (429). */
const feeds_max = 1_000;
/** Feeds one customer may hold open at once on a process (a browser's tabs). */
const feeds_per_caller_max = 8;
/** What the client should wait before reconnecting, sent once per feed (SSE `retry:`). */
const reconnect_ms = 2_000;

interface Waiter {
  userId: string;
  afterSequence: bigint;
  wake: () => void;
}

/** The per-process poller that wakes feeds whose wallet has new events. */
export class WalletFeeds {
  private readonly waiters = new Set<Waiter>();
  private readonly openByCaller = new Map<string, number>();
  private open = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly shards: ShardSet,
    private readonly pollMs = feed_poll_ms,
  ) {}

  /** A release function when one more feed may open for this caller, or undefined (too many). */
  tryOpen(callerKey: string, bounded: boolean): (() => void) | undefined {
    const mine = this.openByCaller.get(callerKey) ?? 0;
    if (this.open >= feeds_max || (bounded && mine >= feeds_per_caller_max)) return undefined;
    this.open += 1;
    this.openByCaller.set(callerKey, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.openByCaller.get(callerKey) ?? 1) - 1;
      if (left > 0) this.openByCaller.set(callerKey, left);
      else this.openByCaller.delete(callerKey);
    };
  }

  /** Resolves once the wallet has an event after `afterSequence`, after `maxMs`, or when `gone` aborts. */
  waitForMore(userId: string, afterSequence: bigint, maxMs: number, gone: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { userId, afterSequence, wake: () => finish() };
      const timeout = setTimeout(() => finish(), maxMs);
      const finish = () => {
        clearTimeout(timeout);
        gone.removeEventListener('abort', finish);
        this.waiters.delete(waiter);
        resolve();
      };
      if (gone.aborted) return finish();
      gone.addEventListener('abort', finish);
      this.waiters.add(waiter);
      this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    });
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    if (this.waiters.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.polling = true;
    try {
      const byShard = new Map<number, Set<string>>();
      for (const waiter of this.waiters) {
        const shard = this.shards.shardOf(waiter.userId);
        byShard.set(shard, (byShard.get(shard) ?? new Set()).add(waiter.userId));
      }
      const heads = new Map<string, bigint>();
      await Promise.all(
        [...byShard].map(async ([shard, userIds]) => {
          // A shard that does not answer wakes nobody this round; the next poll asks again.
          const found = await walletEventHeads(this.shards.pool(shard), [...userIds]).catch(() => new Map());
          for (const [userId, head] of found) heads.set(userId, head);
        }),
      );
      for (const waiter of [...this.waiters])
        if ((heads.get(waiter.userId) ?? 0n) > waiter.afterSequence) waiter.wake();
    } finally {
      this.polling = false;
    }
  }
}

/** Waits until the socket takes more, or the client hangs up. */
function drained(response: Response, gone: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      gone.removeEventListener('abort', done);
      resolve();
    };
    response.once('drain', done);
    gone.addEventListener('abort', done);
  });
}

/**
 * Streams a wallet's events after `afterSequence` as Server-Sent Events until the client hangs up
 * or the feed's lifetime ends: each event is `id: <sequence>`, `event: <type>`, `data: <envelope>`
 * (docs/events.md). The headers are already checked and the wallet authorized by the route.
 */
export async function streamWalletEvents(
  feeds: WalletFeeds,
  shards: ShardSet,
  response: Response,
  feed: { userId: string; afterSequence: bigint },
): Promise<void> {
  const gone = new AbortController();
  response.once('close', () => gone.abort());
  const ends = Date.now() + feed_lifetime_ms;
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  response.write(`retry: ${reconnect_ms}\n\n`);
  const pool = shards.pool(shards.shardOf(feed.userId));
  let after = feed.afterSequence;
  try {
    while (!gone.signal.aborted && Date.now() < ends)
      after = await sendPage(feeds, response, pool, feed.userId, after, ends, gone.signal);
  } catch {
    // A shard that stopped answering ends the feed; the client reconnects with Last-Event-ID and loses nothing.
  } finally {
    response.end();
  }
}

/** Sends the next page of events, then waits for more when it was the last; answers the last sequence sent. */
async function sendPage(
  feeds: WalletFeeds,
  response: Response,
  pool: ReturnType<ShardSet['pool']>,
  userId: string,
  after: bigint,
  ends: number,
  gone: AbortSignal,
): Promise<bigint> {
  const page = await walletEventsAfter(pool, { userId, afterSequence: after, limit: wallet_events_page_max });
  let open = true;
  for (const event of page) {
    // The envelope is one line of JSON (PostgreSQL escapes newlines inside strings).
    open = response.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${event.json}\n\n`);
    after = event.sequence;
  }
  if (!open) await drained(response, gone);
  if (page.length === wallet_events_page_max) return after;
  const quietSince = Date.now();
  await feeds.waitForMore(userId, after, Math.min(feed_keepalive_ms, ends - Date.now()), gone);
  if (!gone.aborted && Date.now() - quietSince >= feed_keepalive_ms) response.write(': keep-alive\n\n');
  return after;
}
