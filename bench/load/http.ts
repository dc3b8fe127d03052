import { Agent, request } from 'undici';
import { RequestError } from './errors';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** Longest a single HTTP exchange may take: a `?wait=30` answer plus slack. */
const exchange_timeout_ms = 45_000;

/**
 * Keep-alive HTTP for the load generator, with as many connections per server as requests may
 * be outstanding, so the client never queues a request behind another (each `?wait` holds one).
 */
export class HttpClient {
  private readonly agent: Agent;
  private next = 0;

  constructor(
    readonly origins: readonly string[],
    private readonly token: string,
    connections_per_origin: number,
  ) {
    if (origins.length === 0) throw new Error('no server to send to');
    this.agent = new Agent({
      connections: connections_per_origin,
      keepAliveTimeout: 60_000,
      headersTimeout: exchange_timeout_ms,
      bodyTimeout: exchange_timeout_ms,
    });
  }

  /** Round-robin over the servers; a transfer's follow-up GET goes to the server that accepted it. */
  pickOrigin(): string {
    const origin = this.origins[this.next % this.origins.length]!;
    this.next++;
    return origin;
  }

  async json(
    method: 'GET' | 'POST' | 'PUT',
    origin: string,
    path: string,
    body?: unknown,
    /** Another caller's token than the client's own (a customer's, in the admission scenarios). */
    token = this.token,
  ): Promise<JsonAnswer> {
    let answer;
    try {
      answer = await request(`${origin}${path}`, {
        dispatcher: this.agent,
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const code = String((error as { code?: string }).code ?? 'network').toLowerCase();
      // Refused before connecting: the server never saw it. Anything later may have been acted on.
      throw new RequestError(code, code !== 'econnrefused');
    }
    const text = await answer.body.text();
    try {
      return { status: answer.statusCode, body: JSON.parse(text) as unknown };
    } catch {
      return { status: answer.statusCode, body: text };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** `http_<status>_<error code>` from an answer that was not the one expected. */
export function httpErrorOf(answer: JsonAnswer): RequestError {
  const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = error?.code;
  // 5xx answers may come after the transfer was recorded; 4xx never move anything.
  return new RequestError(
    `http_${answer.status}${code ? `_${code}` : ''}${code === 'overloaded' ? overloadedBy(error?.message ?? '') : ''}`,
    answer.status >= 500,
  );
}

/**
 * Which bound refused an `overloaded` answer, from its message: admission's estimate (no
 * suffix), the process-wide ceiling, or a shard's connections (the shard gate or the pool).
 */
function overloadedBy(message: string): string {
  if (message.startsWith('a shard is busy')) return '_shard_busy';
  if (message.startsWith('the wallet process holds as many')) return '_ceiling';
  return '';
}
