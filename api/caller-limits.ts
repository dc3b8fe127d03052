import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type AugmentedRequest } from 'express-rate-limit';
import { Counter, Gauge, type Registry } from 'prom-client';
import { principalOf } from './auth';
import { ApiError } from './errors';

/**
 * What one caller (a token's subject and role) may ask of one API process. Every request, even
 * one bound to fail, can create a durable record and a workflow, so a client in a loop must be
 * slowed down before it costs the other callers their latency.
 */
export interface CallerLimits {
  /** Requests a customer may make per rate window; more answer 429 rate_limited. */
  customerRequestsPerWindow: number;
  /** Requests an ops caller may make per rate window (consoles and batch jobs make more). */
  opsRequestsPerWindow: number;
  rateWindowMs: number;
  /**
   * `?wait` requests one customer may hold open at once; more are answered at once, as with
   * wait=0. Ops callers (consoles, the pay-in integration funding wallets in parallel) are bound
   * only by waitsMax.
   */
  waitsPerCaller: number;
  /** `?wait` requests this process holds open at once, all callers together. */
  waitsMax: number;
}

export const default_caller_limits: CallerLimits = {
  customerRequestsPerWindow: 300,
  opsRequestsPerWindow: 30_000,
  rateWindowMs: 60_000,
  waitsPerCaller: 8,
  waitsMax: 1_000,
};

/** One set of series per registry, however many apps a process creates (tests make several). */
const series_by_registry = new WeakMap<Registry, { rateLimited: Counter; waitsOpen: Gauge; waitsSkipped: Counter }>();
function limitSeries(registry: Registry) {
  const registers = [registry];
  const series = series_by_registry.get(registry) ?? {
    rateLimited: new Counter({
      name: 'wallet_http_rate_limited_total',
      help: 'Requests answered 429 rate_limited, by role',
      labelNames: ['role'],
      registers,
    }),
    waitsOpen: new Gauge({ name: 'wallet_http_waits_open', help: '?wait requests held open now', registers }),
    waitsSkipped: new Counter({
      name: 'wallet_http_waits_skipped_total',
      help: '?wait requests answered at once because the caller or the process held too many open',
      labelNames: ['bound'],
      registers,
    }),
  };
  series_by_registry.set(registry, series);
  return series;
}

function callerKey(request: Request): string {
  const principal = principalOf(request);
  return `${principal.role}:${principal.userId}`;
}

/**
 * A fixed window per caller, counted in this process (each API process counts its own: behind a
 * load balancer with N processes a caller gets up to N times the limit). Runs after authenticate,
 * so it is keyed by who is calling, never by an address many callers may share.
 */
export function rateLimitPerCaller(limits: CallerLimits, registry: Registry): RequestHandler {
  const metrics = limitSeries(registry);
  return rateLimit({
    windowMs: limits.rateWindowMs,
    limit: (request) =>
      principalOf(request).role === 'ops' ? limits.opsRequestsPerWindow : limits.customerRequestsPerWindow,
    keyGenerator: callerKey,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // The key is never an IP address, so the library's checks of proxy headers do not apply.
    validate: false,
    handler: (request, _response, next) => {
      const role = principalOf(request).role;
      metrics.rateLimited.inc({ role });
      const resetTime =
        (request as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now() + limits.rateWindowMs;
      const retryAfterS = Math.max(1, Math.ceil((resetTime - Date.now()) / 1000));
      next(
        new ApiError(
          'rate_limited',
          `too many requests from this caller; retry in ${retryAfterS} s`,
          undefined,
          retryAfterS,
        ),
      );
    },
  });
}

/**
 * Counts open `?wait` requests per caller and in all. A wait is a convenience (the client can
 * poll instead), so when a bound is reached the request is not refused: it answers at once with
 * the transfer as it stands, exactly as a wait that timed out would.
 */
export class WaitSlots {
  private readonly openByCaller = new Map<string, number>();
  private open = 0;

  private readonly metrics: ReturnType<typeof limitSeries>;

  constructor(
    private readonly limits: Pick<CallerLimits, 'waitsPerCaller' | 'waitsMax'>,
    registry: Registry,
  ) {
    this.metrics = limitSeries(registry);
  }

  /**
   * `?wait`: `wait` holds the request open (until what it waits for, its N seconds, or the client
   * hanging up, which aborts its signal). Past the caller's or the process's bound of open waits
   * it answers `now` at once, as a wait that timed out would.
   */
  async waitOrNow<T>(
    request: Request,
    response: Response,
    now: T,
    wait: (gone: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const release = this.tryAcquire(request);
    if (!release) return now;
    const gone = new AbortController();
    const hangUp = () => gone.abort();
    response.once('close', hangUp);
    try {
      return await wait(gone.signal);
    } finally {
      response.off('close', hangUp);
      release();
    }
  }

  /** A release function when the request may wait, or undefined when it must answer at once. */
  tryAcquire(request: Request): (() => void) | undefined {
    const metrics = this.metrics;
    const key = callerKey(request);
    const mine = this.openByCaller.get(key) ?? 0;
    if (this.open >= this.limits.waitsMax) {
      metrics.waitsSkipped.inc({ bound: 'process' });
      return undefined;
    }
    if (mine >= this.limits.waitsPerCaller && principalOf(request).role !== 'ops') {
      metrics.waitsSkipped.inc({ bound: 'caller' });
      return undefined;
    }
    this.openByCaller.set(key, mine + 1);
    this.open += 1;
    metrics.waitsOpen.inc();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      metrics.waitsOpen.dec();
      const left = (this.openByCaller.get(key) ?? 1) - 1;
      if (left === 0) this.openByCaller.delete(key);
      else this.openByCaller.set(key, left);
    };
  }

  /** Waits open now, in all and by how many callers (the test of 1,000 timed-out waits reads it). */
  stats(): { open: number; callers: number } {
    return { open: this.open, callers: this.openByCaller.size };
  }
}
