import { signToken, type Role } from '../api/auth';

export interface Answer {
  status: number;
  body: any;
}

/** A client gives up on one request after this long and retries it (same key, same body). */
const request_timeout_ms = 20_000;
/** Clients retry a request this long before they give up on it (and the report says so). */
export const give_up_after_ms = 180_000;
const backoff_first_ms = 100;
const backoff_max_ms = 2_000;
/** Tokens are minted with iat and a short exp, and renewed well before they expire. */
const token_lifetime = '5m';
const token_renew_after_ms = 120_000;

/**
 * HTTP as real clients do it: a bearer token per caller, round-robin over the wallet processes,
 * and every 5xx, 429, timeout and connection error retried with the same body (so the same
 * idempotency key) after a backoff, on the next process.
 */
export class ChaosClient {
  private next = 0;
  private readonly tokens = new Map<string, { token: string; mintedAtMs: number }>();
  /** Attempts that failed and were retried, by cause: the report shows what the faults cost clients. */
  readonly retried: Record<string, number> = {};
  gave_up = 0;
  /** Where operators' signals go (the engine itself); without it every ops action goes over HTTP. */
  signals: SignalSender | undefined;

  constructor(
    private readonly origins: readonly string[],
    private readonly secret: string,
  ) {}

  private async token(sub: string, role: Role): Promise<string> {
    const key = `${role}:${sub}`;
    const known = this.tokens.get(key);
    if (known && Date.now() - known.mintedAtMs < token_renew_after_ms) return known.token;
    const token = await signToken(this.secret, { userId: sub, role }, token_lifetime);
    this.tokens.set(key, { token, mintedAtMs: Date.now() });
    return token;
  }

  /** One attempt, on the next process in turn; a network error or timeout comes back as status 0 with the cause. */
  once(method: string, path: string, as: { sub: string; role: Role }, body?: unknown): Promise<Answer> {
    return this.onceTo(this.next++ % this.origins.length, method, path, as, body);
  }

  /** One attempt on process `index` (the noisy neighbour keeps to one: the rate limit is per process). */
  async onceTo(
    index: number,
    method: string,
    path: string,
    as: { sub: string; role: Role },
    body?: unknown,
  ): Promise<Answer> {
    const origin = this.origins[index % this.origins.length]!;
    try {
      const response = await fetch(`${origin}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await this.token(as.sub, as.role)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(request_timeout_ms),
      });
      const text = await response.text();
      try {
        return { status: response.status, body: JSON.parse(text) };
      } catch {
        return { status: response.status, body: text };
      }
    } catch (error) {
      const cause =
        (error as { cause?: { code?: string }; name?: string }).cause?.code ?? (error as Error).name ?? 'network';
      return { status: 0, body: { error: { code: String(cause).toLowerCase() } } };
    }
  }

  /** Retries until an answer that is not 5xx, 429 or a lost exchange; after give_up_after_ms, the last one. */
  async retrying(method: string, path: string, as: { sub: string; role: Role }, body?: unknown): Promise<Answer> {
    const deadline = Date.now() + give_up_after_ms;
    for (let attempt = 0; ; attempt++) {
      const answer = await this.once(method, path, as, body);
      if (!isRetryable(answer)) return answer;
      const cause =
        answer.status === 0
          ? answer.body.error.code
          : `http_${answer.status}${answer.body?.error?.code ? `_${answer.body.error.code}` : ''}`;
      this.retried[cause] = (this.retried[cause] ?? 0) + 1;
      if (Date.now() > deadline) {
        this.gave_up++;
        return answer;
      }
      const backoff = Math.min(backoff_max_ms, backoff_first_ms * 2 ** attempt);
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
}

export function isRetryable(answer: Answer): boolean {
  return answer.status === 0 || answer.status === 429 || answer.status >= 500;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends an operator's signal straight to the engine (chaos/signals.ts); true once the engine took it. */
export interface SignalSender {
  send(workflowId: string, name: string, input: object): Promise<boolean>;
  close(): Promise<void>;
}
