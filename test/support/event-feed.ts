import { parse } from 'lossless-json';
import { tokenFor } from './stack';

/** One Server-Sent Event of a wallet's feed, its envelope parsed exactly (amounts as LosslessNumber). */
export interface FeedEvent {
  id: string;
  event: string;
  data: Record<string, any>;
}

/**
 * A client of GET /v1/wallet/{user_id}/events: reads frames as they arrive. `next` answers the
 * next event (skipping comments and `retry:`), or throws after `timeoutMs`.
 */
export async function openFeed(
  baseUrl: string,
  userId: string,
  options: { as?: string; role?: 'customer' | 'ops'; lastEventId?: string } = {},
) {
  const abort = new AbortController();
  const headers: Record<string, string> = {
    authorization: `Bearer ${await tokenFor(options.as ?? userId, options.role ?? 'customer')}`,
  };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(`${baseUrl}/v1/wallet/${userId}/events`, { headers, signal: abort.signal });
  if (response.status !== 200 || !response.body)
    throw new Error(`feed answered ${response.status}: ${await response.text()}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  const queue: FeedEvent[] = [];
  async function fill(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      while (queue.length === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the feed ended');
        buffered += value;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const fields = Object.fromEntries(
            frame
              .split('\n')
              .filter((line) => !line.startsWith(':') && line.includes(': '))
              .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
          );
          if (fields.data !== undefined)
            queue.push({ id: fields.id!, event: fields.event!, data: parse(fields.data) as Record<string, any> });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    contentType: response.headers.get('content-type'),
    async next(timeoutMs = 10_000): Promise<FeedEvent> {
      await fill(timeoutMs);
      return queue.shift()!;
    },
    /** Every event that arrives until `count` of them have, in order. */
    async take(count: number, timeoutMs = 10_000): Promise<FeedEvent[]> {
      const events: FeedEvent[] = [];
      while (events.length < count) events.push(await this.next(timeoutMs));
      return events;
    },
    close(): void {
      abort.abort();
    },
  };
}
