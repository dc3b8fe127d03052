import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { checkStreamInvariants, readStreamOutbox } from '../chaos/stream-invariants';
import { dailySpendOf, runDailySpendConsumer } from '../examples/daily-spend';
import { eventSubject } from '../workers/event-stream';
import { userOnShard } from './support/ledger';
import { startTestNats, type StreamMessage } from './support/nats';
import { createTestShards } from './support/shards';
import { uniqueName } from './support/temporal';
import { createFundedUser, startWalletProcess, type WalletProcess } from './support/wallet-process';

type Shards = Awaited<ReturnType<typeof createTestShards>>;
type Nats = Awaited<ReturnType<typeof startTestNats>>;

/** The message id test 1 republishes an event under, as a relay past the duplicate window would. */
const republish_id = 'republished-past-the-window';

interface OutboxEvent {
  shard: number;
  eventId: string;
  userId: string;
  sequence: number;
  type: string;
}

/** Every event of every shard's outbox. */
async function outbox(fixture: Shards): Promise<OutboxEvent[]> {
  const found: OutboxEvent[] = [];
  for (const [shard, pool] of fixture.shards.pools.entries()) {
    const rows = await pool.query<{ event_id: string; user_id: string; sequence: number; type: string }>(
      'select event_id, user_id, sequence::int as sequence, type from wallet_events',
    );
    found.push(...rows.rows.map((row) => ({ shard, eventId: row.event_id, userId: row.user_id, ...row })));
  }
  return found;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The stream holds every outbox event exactly once (message id = event id, subject per shard and
 * type), and each wallet's events in sequence order 1..n.
 */
function assertStreamMatchesOutbox(messages: StreamMessage[], events: OutboxEvent[]): void {
  messages = messages.filter((message) => message.msgId !== republish_id);
  assert.equal(messages.length, events.length, 'one message per event');
  const byId = new Map(events.map((event) => [event.eventId, event]));
  const seen = new Set<string>();
  const lastSequence = new Map<string, number>();
  for (const message of messages) {
    const event = byId.get(message.msgId);
    assert.ok(event, `${message.msgId} is an outbox event`);
    assert.ok(!seen.has(message.msgId), `${message.msgId} once`);
    seen.add(message.msgId);
    assert.equal(message.event.id, message.msgId);
    assert.equal(message.subject, eventSubject(event.shard, event.type));
    const previous = lastSequence.get(event.userId) ?? 0;
    assert.equal(message.event.sequence, previous + 1, `${event.userId}'s events in order on the stream`);
    lastSequence.set(event.userId, message.event.sequence);
  }
}

async function metricsOf(wallet: WalletProcess): Promise<string> {
  return (await fetch(`${wallet.baseUrl}/metrics`)).text();
}

function metricValue(metrics: string, name: string, shard: number): number | undefined {
  const line = new RegExp(`^${name}\\{shard="${shard}"\\} (\\S+)$`, 'm').exec(metrics);
  return line ? Number(line[1]) : undefined;
}

/** Real wallet processes relay their shards' outboxes to a real nats-server with JetStream. */
describe('wallet events on JetStream', () => {
  let nats: Nats;
  let fixture: Shards;
  let wallet: WalletProcess | undefined;
  const walletEnv = () => ({ NATS_URL: nats.url, EVENT_RELAY_POLL: '50ms' });

  before(async () => {
    nats = await startTestNats();
    fixture = await createTestShards(4);
    wallet = await startWalletProcess(walletEnv(), fixture);
  });
  after(async () => {
    await wallet?.stop();
    await fixture?.drop();
    await nats?.stop();
  });

  it('publishes every event once, in order per wallet; the example consumer sums each day’s debits once', async () => {
    const [alice, bob, carol] = [0, 1, 2].map((shard) => userOnShard(fixture.shards, shard, 'js'));
    for (const user of [alice!, bob!, carol!]) await createFundedUser(wallet!, user, 1_000);
    const transfer = async (from: string, to: string, amount: number) => {
      const answer = await wallet!.call('POST', '/v1/wallet/transfers?wait=30', {
        as: from,
        body: { from_user_id: from, to_user_id: to, amount, currency: 'USD', idempotency_key: uniqueName('tr') },
      });
      assert.equal(answer.body.status, 'COMPLETED', JSON.stringify(answer.body));
    };
    await transfer(alice!, bob!, 300);
    await transfer(alice!, carol!, 200);
    await transfer(bob!, carol!, 50);
    const db = fixture.shards.pool(3);
    const consumer = await runDailySpendConsumer({ natsUrl: nats.url, db, durable: 'daily-spend-test' });
    try {
      const events = await outbox(fixture);
      await until('every event on the stream', async () => (await nats.count()) >= events.length);
      assertStreamMatchesOutbox(await nats.messages(), events);

      // A republish past the duplicate window (a new message id) reaches the consumer: its view ignores it.
      const debit = (await nats.messages()).find((message) => message.event.type === 'wallet.debited')!;
      const connection = await connect({ servers: nats.url });
      const original = await jetstream(connection).streams.get('WALLET_EVENTS');
      const body = (await original.getMessage({ seq: debit.seq }))!.string();
      await jetstream(connection).publish(debit.subject, body, { msgID: republish_id });
      await connection.close();

      await until('the consumer applied every event', async () => consumer.counts.applied === events.length);
      await until('the consumer saw the republish', async () => consumer.counts.duplicates === 1);
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(await dailySpendOf(db, alice!, today), { USD: 500n });
      assert.deepEqual(await dailySpendOf(db, bob!, today), { USD: 50n });
      assert.deepEqual(await dailySpendOf(db, carol!, today), {});
      assert.equal(consumer.counts.gaps, 0);
    } finally {
      await consumer.stop();
    }
  });

  it('reports the lag, events and seconds per shard, while an open transaction holds events back', async () => {
    const shard = 1;
    const user = userOnShard(fixture.shards, shard, 'lag');
    const pool = fixture.shards.pool(shard);
    await pool.query('insert into users (user_id) values ($1::text)', [user]);
    const holder = await pool.connect();
    try {
      // An open transaction with an xid: every event committed after it waits for it (the drain's xmin rule).
      await holder.query('begin');
      await holder.query('select pg_current_xact_id()');
      await pool.query('update users set frozen = true where user_id = $1::text', [user]);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await until('a lag on the shard', async () => {
        const metrics = await metricsOf(wallet!);
        return (
          (metricValue(metrics, 'wallet_event_relay_lag_events', shard) ?? 0) >= 1 &&
          (metricValue(metrics, 'wallet_event_relay_lag_seconds', shard) ?? 0) >= 1
        );
      });
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    await until(
      'no lag',
      async () => metricValue(await metricsOf(wallet!), 'wallet_event_relay_lag_events', shard) === 0,
    );
    assert.equal(metricValue(await metricsOf(wallet!), 'wallet_event_relay_lag_seconds', shard), 0);
  });

  it('resumes after a crash mid-drain: no event lost, the republished ones dropped by the stream', async () => {
    // 100 wallets × 20 events, committed at once while the relay is up.
    for (const [shard, pool] of fixture.shards.pools.entries())
      await pool.query(
        `insert into users (user_id) select 'crash_' || $1::int || '_' || n from generate_series(1, 25) n`,
        [shard],
      );
    const onStreamBefore = await nats.count();
    await fixture.shards.pool(0).query('select 1'); // the pools are warm: the burst below is one statement per shard
    await Promise.all(
      fixture.shards.pools.map((pool) =>
        pool.query(`do $$ begin for round in 1..20 loop
                      update users set frozen = not frozen where user_id like 'crash\\_%';
                    end loop; end $$`),
      ),
    );
    const events = await outbox(fixture);
    await until('the relay mid-drain', async () => (await nats.count()) > onStreamBefore, 20_000);
    const atKill = await nats.count();
    await wallet!.kill();
    assert.ok(atKill < events.length, `killed mid-drain (${atKill} of ${events.length} on the stream)`);

    wallet = await startWalletProcess(walletEnv(), fixture);
    await until(
      'every event on the stream after the restart',
      async () => (await nats.count()) > events.length,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertStreamMatchesOutbox(await nats.messages(), events);
    // The chaos run's stream invariants (chaos/stream-invariants.ts) hold on this run too.
    const outboxes = await Promise.all(fixture.shards.pools.map((pool, shard) => readStreamOutbox(pool, shard)));
    const streamIds = (await nats.messages()).filter((m) => m.msgId !== republish_id).map((m) => m.event.id);
    for (const result of checkStreamInvariants(outboxes, streamIds, 1)) assert.ok(result.held, JSON.stringify(result));
    const metrics = await metricsOf(wallet);
    const republished = [...metrics.matchAll(/^wallet_event_relay_published_total\{.*duplicate="true".*\} (\d+)$/gm)];
    console.log(
      `crash mid-drain: ${atKill} of ${events.length} events on the stream at the kill; ` +
        `${republished.reduce((sum, match) => sum + Number(match[1]), 0)} republished and dropped as duplicates`,
    );
  });
});
