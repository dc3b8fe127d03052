import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { parse } from 'lossless-json';
import type pg from 'pg';

/**
 * An example downstream consumer of the wallet events stream (docs/events.md, "Building a read
 * model from the stream"): a per-user daily spend view, the sum of wallet.debited amounts by
 * user, currency and UTC day. It reads the stream through a durable consumer, applies each
 * event in one transaction of its own database, de-duplicated by event id, and acknowledges it
 * only after that commit: a crash redelivers, and a redelivery changes nothing.
 */

/** The stream the wallet's relay publishes to (workers/event-stream.ts). */
const stream_name = 'WALLET_EVENTS';
/** Messages the server hands this consumer before it must acknowledge some. */
const ack_pending_max = 1_000;
/** An event not acknowledged in this long is delivered again. */
const ack_wait_ms = 30_000;

/** The view's tables, created when missing. daily_spend_events is the de-duplication set. */
const view_schema = `
  create table if not exists daily_spend (
    user_id text not null, day date not null, currency text not null,
    amount_minor numeric(38, 0) not null, primary key (user_id, day, currency));
  create table if not exists daily_spend_events (event_id text primary key);
  create table if not exists daily_spend_wallets (user_id text primary key, last_sequence bigint not null)`;

interface Envelope {
  id: string;
  type: string;
  user_id: string;
  sequence: string;
  occurred_at: string;
  data: { currency?: string; amount?: string };
}

/** What a consumer found: events applied, duplicates skipped, gaps seen in a wallet's sequence. */
export interface ConsumerCounts {
  applied: number;
  duplicates: number;
  gaps: number;
}

/**
 * Applies one event: nothing when its id was seen (a redelivery, a republish past the stream's
 * duplicate window); else records the id, moves the wallet's last sequence (a jump is a gap:
 * a missing event, to fetch from the wallet), and adds a debit to its day.
 */
async function applyEvent(db: pg.Pool, event: Envelope, counts: ConsumerCounts): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('begin');
    const fresh = await client.query(
      'insert into daily_spend_events (event_id) values ($1::text) on conflict do nothing',
      [event.id],
    );
    if (fresh.rowCount === 0) {
      await client.query('rollback');
      counts.duplicates += 1;
      return;
    }
    const last = await client.query<{ previous: string | null }>(
      `insert into daily_spend_wallets as w (user_id, last_sequence) values ($1::text, $2::bigint)
       on conflict (user_id) do update set last_sequence = greatest(w.last_sequence, excluded.last_sequence)
       returning (select last_sequence::text from daily_spend_wallets where user_id = $1::text) as previous`,
      [event.user_id, event.sequence],
    );
    const previous = BigInt(last.rows[0]!.previous ?? '0');
    if (BigInt(event.sequence) > previous + 1n) counts.gaps += 1;
    if (event.type === 'wallet.debited')
      await client.query(
        `insert into daily_spend (user_id, day, currency, amount_minor)
         values ($1::text, ($2::timestamptz at time zone 'UTC')::date, $3::text, $4::numeric)
         on conflict (user_id, day, currency) do update set amount_minor = daily_spend.amount_minor + excluded.amount_minor`,
        [event.user_id, event.occurred_at, event.data.currency, event.data.amount],
      );
    await client.query('commit');
    counts.applied += 1;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Reads an envelope with its numbers as digit strings: amounts stay exact. */
function envelopeOf(message: JsMsg): Envelope {
  return parse(message.string(), undefined, (digits: string) => digits) as Envelope;
}

/**
 * Runs the consumer until stop: the durable consumer `durable` on the whole stream (every
 * subject, so every wallet's sequence can be checked for gaps), from its first message.
 */
export async function runDailySpendConsumer(options: { natsUrl: string; db: pg.Pool; durable: string }) {
  await options.db.query(view_schema);
  const connection = await connect({ servers: options.natsUrl, name: options.durable });
  const manager = await jetstreamManager(connection);
  await manager.consumers.add(stream_name, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ack_wait_ms),
    max_ack_pending: ack_pending_max,
  });
  const consumer = await jetstream(connection).consumers.get(stream_name, options.durable);
  const messages = await consumer.consume({ max_messages: 100 });
  const counts: ConsumerCounts = { applied: 0, duplicates: 0, gaps: 0 };
  const done = (async () => {
    for await (const message of messages) {
      // Not acknowledged when applying fails: the server delivers it again after ack_wait.
      await applyEvent(options.db, envelopeOf(message), counts).then(
        () => message.ack(),
        () => message.nak(1_000),
      );
    }
  })();
  return {
    counts,
    async stop() {
      await messages.close();
      await done;
      await connection.drain();
    },
  };
}

/** The view: a user's debits on one UTC day (YYYY-MM-DD), by currency, in minor units. */
export async function dailySpendOf(db: pg.Pool, userId: string, day: string): Promise<Record<string, bigint>> {
  const found = await db.query<{ currency: string; amount_minor: string }>(
    'select currency, amount_minor::text from daily_spend where user_id = $1::text and day = $2::date',
    [userId, day],
  );
  return Object.fromEntries(found.rows.map((row) => [row.currency, BigInt(row.amount_minor)]));
}
