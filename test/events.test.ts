import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'lossless-json';
import pino from 'pino';
import { createActivities } from '../activities';
import type { LegInput } from '../domain/transfer-legs';
import { wallet_event_types } from '../domain/wallet-events';
import { insertUser, setFrozen } from '../ledger/users';
import {
  drain_start,
  shardDrainSkip,
  shardEventsAfter,
  walletEventsAfter,
  type WalletEvent,
} from '../ledger/wallet-events';
import { openFeed } from './support/event-feed';
import { userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';
import { startTestStack, type TestStack } from './support/stack';
import { fundUsers, startWalletProcess, type WalletProcess } from './support/wallet-process';
import { mockActivityRunner, uniqueName } from './support/temporal';

/** Every event of a wallet, in sequence order. */
async function eventsOf(shards: TestStack['shards'], userId: string): Promise<WalletEvent[]> {
  return walletEventsAfter(shards.pool(shards.shardOf(userId)), { userId, afterSequence: 0n, limit: 500 });
}

/** Sequences 1..n, each once: nothing missing, nothing twice. */
function assertGapFree(events: WalletEvent[]): void {
  assert.deepEqual(
    events.map((event) => event.sequence),
    events.map((_, index) => BigInt(index + 1)),
  );
}

type Fixture = Awaited<ReturnType<typeof createTestShards>>;

/** The outbox as the ledger's own SQL writes it, against real shards. */
describe('wallet events: the outbox', () => {
  let fixture: Fixture;
  let activities: ReturnType<typeof createActivities>;
  const run = mockActivityRunner();

  before(async () => {
    fixture = await createTestShards(2);
    activities = createActivities({ shards: fixture.shards, logger: pino({ level: 'silent' }) });
  });
  after(async () => fixture.drop());

  function leg(userId: string, amount: bigint, counterparty: LegInput['counterparty'] = 'clearing'): LegInput {
    return { transferId: uniqueName('tr'), userId, amountMinor: amount.toString(), currency: 'USD', counterparty };
  }

  async function userWith(balanceMinor: bigint, shard = 0): Promise<string> {
    const userId = userOnShard(fixture.shards, shard, 'ev');
    await insertUser(fixture.shards.pool(shard), userId);
    if (balanceMinor > 0n) await run(activities.creditWallet, leg(userId, balanceMinor, 'settlement'));
    return userId;
  }

  it('writes one wallet.credited or wallet.debited per committed entry, with its balance after', async () => {
    const alice = await userWith(1_000n);
    const debit = leg(alice, 300n);
    await run(activities.debitWallet, debit);
    await run(activities.debitWallet, debit); // a retry posts nothing, so writes nothing
    const events = await eventsOf(fixture.shards, alice);
    assertGapFree(events);
    assert.deepEqual(
      events.map((event) => event.type),
      ['wallet.credited', 'wallet.debited'],
    );
    const envelope = parse(events[1]!.json) as Record<string, any>;
    assert.equal(envelope.id, `ev_${alice}_2`);
    assert.equal(envelope.schema_version.toString(), '1');
    assert.equal(envelope.data.transfer_id, debit.transferId);
    assert.equal(envelope.data.amount.toString(), '300');
    assert.equal(envelope.data.balance_after.toString(), '700');
    assert.equal(envelope.data.currency, 'USD');
    assert.match(envelope.data.entry_id, /^[0-9]+$/);
  });

  it('writes no ledger event for a refused debit, nor for a leg whose transaction rolled back', async () => {
    const bob = await userWith(100n);
    await assert.rejects(run(activities.debitWallet, leg(bob, 500n)), { type: 'insufficient_funds' });
    const pool = fixture.shards.pool(fixture.shards.shardOf(bob));
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `select * from post_leg(p_transfer_id => $1, p_leg => 'credit', p_user_id => $2, p_currency => 'USD',
           p_customer_delta => 50, p_counterparty => 'clearing', p_entry_kind => 'transfer_in', p_ignore_holds => false,
           p_workflow_id => 'w', p_run_id => 'r', p_finish_if_posted => null, p_finish_reason_if_posted => null,
           p_finish_if_refused => false, p_allow_negative => false, p_daily_limit => null)`,
        [uniqueName('tr'), bob],
      );
      await client.query('rollback');
    } finally {
      client.release();
    }
    await run(activities.debitWallet, leg(bob, 40n));
    const events = await eventsOf(fixture.shards, bob);
    assertGapFree(events);
    assert.deepEqual(
      events.map((event) => event.type),
      ['wallet.credited', 'wallet.debited'],
    );
  });

  it('keeps a wallet gap-free and in order under concurrent legs, one event per customer entry', async () => {
    const carol = await userWith(1_000n, 1);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) =>
        index % 3 === 0 ? run(activities.creditWallet, leg(carol, 7n)) : run(activities.debitWallet, leg(carol, 60n)),
      ),
    );
    assert.ok(results.some((result) => result.status === 'rejected'));
    const events = await eventsOf(fixture.shards, carol);
    assertGapFree(events);
    const entries = await fixture.shards
      .pool(1)
      .query<{ count: string }>(`select count(*)::text as count from entries where account_id = $1`, [
        `customer:${carol}:USD`,
      ]);
    assert.equal(BigInt(events.length), BigInt(entries.rows[0]!.count));
    // Each balance_after follows from the one before it, in sequence order.
    let balance = 0n;
    for (const event of events) {
      const data = (parse(event.json) as Record<string, any>).data;
      const amount = BigInt(data.amount.toString());
      balance += event.type === 'wallet.credited' ? amount : -amount;
      assert.equal(BigInt(data.balance_after.toString()), balance);
    }
  });

  it("writes a transfer's review, reversal and refusal, limits, close, a payout's statuses and a pay-in on its wallet", async () => {
    const ivan = await userWith(1_000n);
    const judy = await userWith(0n);
    const pool = fixture.shards.pool(0);
    const sql = (text: string, ...values: unknown[]) => pool.query(text, values);
    const [held, rejected, reversed] = [uniqueName('tr'), uniqueName('tr'), uniqueName('tr')];
    for (const [transferId, approvals] of [
      [held, 1],
      [rejected, 1],
      [reversed, 0],
    ] as const)
      await sql(
        `insert into transfers (transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency,
                                idempotency_key, request_hash, status, approvals_required)
         values ($1, 'transfer', $2, $2, 'someone', 100, 'USD', $1, 'hash',
                 case when $3::int > 0 then 'PENDING_REVIEW' else 'PENDING' end, $3::int)`,
        transferId,
        ivan,
        approvals,
      );
    const decide = `select record_review_decision(p_transfer_id => $1, p_decision => $2, p_operator => 'ops@example.com',
                      p_reason => 'checked', p_via => 'update', p_releases => $3, p_dedupe_key => $1 || $2)`;
    await sql(decide, held, 'approve', true);
    await sql(decide, rejected, 'reject', false);
    await sql(`select finish_transfer(p_transfer_id => $1, p_status => 'COMPLETED', p_reason => null)`, reversed);
    await sql(`update transfers set reversal_refused_reason = 'insufficient_funds' where transfer_id = $1`, reversed);
    await sql(
      `select record_reversal(p_transfer_id => $1, p_operator => 'ops@example.com', p_reason => 'fraud',
                              p_forced => true, p_via => 'update')`,
      reversed,
    );
    await sql(`update accounts set daily_outgoing_max = 500 where account_id = $1`, `customer:${ivan}:USD`);
    const payoutId = `po_${'0'.repeat(31)}1`;
    await sql(
      `insert into bank_accounts (bank_account_id, user_id, rail, currency, holder_name, details, last4, fingerprint)
       values ($1, $2, 'ach', 'USD', 'Ivan', '{"routing_number":"231380104","account_number":"12345678","account_type":"checking"}',
               '5678', $3)`,
      `ba_${'0'.repeat(32)}`,
      ivan,
      'f'.repeat(64),
    );
    await sql(
      `insert into payouts (payout_id, user_id, bank_account_id, idempotency_key, request_hash, rail, currency, amount)
       values ($1, $2, $3, 'po-key', 'hash', 'ach', 'USD', 300)`,
      payoutId,
      ivan,
      `ba_${'0'.repeat(32)}`,
    );
    await sql(`update payouts set status = 'HELD' where payout_id = $1`, payoutId);
    await sql(`update payouts set status = 'HELD' where payout_id = $1`, payoutId); // no change, no event
    await sql(
      `select * from credit_payin(p_trace_number => '091000010000001', p_user_id => $1, p_currency => 'USD',
                                  p_amount => 250, p_originator_name => 'ACME PAYROLL', p_workflow_id => 'w', p_run_id => 'r')`,
      ivan,
    );
    await sql(
      `select * from close_wallet(p_user_id => $1, p_operator => 'ops@example.com', p_reason => 'asked', p_reversal_window_ms => 0)`,
      judy,
    );
    const ivans = await eventsOf(fixture.shards, ivan);
    assertGapFree(ivans);
    assert.deepEqual(
      ivans.map((event) => event.type),
      [
        'wallet.credited',
        ...['transfer.created', 'transfer.held_for_review', 'transfer.created', 'transfer.held_for_review'],
        ...['transfer.created', 'transfer.approved', 'transfer.rejected', 'transfer.completed'],
        ...['transfer.reversal_refused', 'transfer.reversed', 'wallet.limits_changed'],
        ...['payout.accepted', 'payout.held', 'wallet.credited', 'payin.credited'],
      ],
    );
    const data = (type: string) => (parse(ivans.find((event) => event.type === type)!.json) as any).data;
    assert.equal(data('transfer.rejected').failure_reason, 'review_rejected');
    assert.equal(data('transfer.reversal_refused').refusal, 'insufficient_funds');
    assert.equal(data('transfer.reversed').reversal_forced, true);
    assert.equal(data('wallet.limits_changed').daily_outgoing_max.toString(), '500');
    assert.equal(data('payout.held').payout_id, payoutId);
    assert.equal(data('payin.credited').trace_number, '091000010000001');
    assert.deepEqual(
      (await eventsOf(fixture.shards, judy)).map((event) => event.type),
      ['wallet.closed'],
    );
  });

  it('drains a shard without passing a transaction still open: a later commit never lands behind the cursor', async () => {
    const [kim, lee] = [await userWith(0n, 1), await userWith(0n, 1)];
    const pool = fixture.shards.pool(1);
    const drainAll = async (after: typeof drain_start) => {
      const events: WalletEvent[] = [];
      for (let page = await shardEventsAfter(pool, { after, limit: 500 }); page.length > 0;) {
        events.push(...page);
        page = await shardEventsAfter(pool, { after: page.at(-1)!.cursor, limit: 500 });
      }
      return events;
    };
    const open = await pool.connect();
    try {
      // kim's freeze takes its transaction id first and stays open; lee's commits after it.
      await open.query('begin');
      await setFrozen(open, { userId: kim, frozen: true, operator: 'ops@example.com', reason: null });
      await fixture.shards.withTransaction(1, (client) =>
        setFrozen(client, { userId: lee, frozen: true, operator: 'ops@example.com', reason: null }),
      );
      const before = await drainAll(drain_start);
      assert.ok(
        !before.some((event) => event.userId === lee || event.userId === kim),
        'nothing past the open transaction',
      );
      const cursor = before.at(-1)?.cursor ?? drain_start;
      await open.query('commit');
      const until = Date.now() + 30_000;
      let after = await drainAll(cursor);
      while (after.filter((event) => [kim, lee].includes(event.userId)).length < 2 && Date.now() < until)
        after = await drainAll(cursor);
      assert.deepEqual(
        after.filter((event) => [kim, lee].includes(event.userId)).map((event) => event.userId),
        [kim, lee],
      );
    } finally {
      open.release();
    }
  });

  it('writes freeze and unfreeze with the ops action, and a shard drain sees every event, each wallet in sequence order', async () => {
    const dave = await userWith(0n, 1);
    for (const frozen of [true, false])
      await fixture.shards.withTransaction(1, (client) =>
        setFrozen(client, { userId: dave, frozen, operator: 'ops@example.com', reason: 'test' }),
      );
    assert.deepEqual(
      (await eventsOf(fixture.shards, dave)).map((event) => event.type),
      ['wallet.frozen', 'wallet.unfrozen'],
    );
    // A drain stops short of any transaction still open on the server (other databases' too), so
    // it may take a few rounds to reach the end: as a relay would, it asks again.
    const all = await fixture.shards
      .pool(1)
      .query<{ count: string }>('select count(*)::text as count from wallet_events');
    // At least once: an event a drain hands out early, before a later one of its wallet, comes
    // again when the cursor reaches it; each wallet's first sightings are in sequence order.
    const drained = new Map<string, WalletEvent>();
    let cursor = drain_start;
    for (const until = Date.now() + 30_000; drained.size < Number(all.rows[0]!.count) && Date.now() < until;) {
      // A drain with no endpoint skips the same page without reading it (shardDrainSkip): read
      // first, it ends where the page does, or before it if the page grew meanwhile.
      const skipped = await shardDrainSkip(fixture.shards.pool(1), { after: cursor, limit: 7 });
      const page = await shardEventsAfter(fixture.shards.pool(1), { after: cursor, limit: 7 });
      const end = page.at(-1)?.cursor;
      if (skipped?.events === 7) assert.deepEqual(skipped.cursor, end);
      else if (skipped)
        assert.ok(
          end &&
            (end.xid > skipped.cursor.xid ||
              (end.xid === skipped.cursor.xid && end.position >= skipped.cursor.position)),
        );
      if (page.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const event of page) if (!drained.has(event.eventId)) drained.set(event.eventId, event);
      cursor = page.at(-1)?.cursor ?? cursor;
    }
    assert.equal(drained.size, Number(all.rows[0]!.count));
    const lastOf = new Map<string, bigint>();
    for (const event of drained.values()) {
      assert.ok(wallet_event_types.includes(event.type), event.type);
      assert.equal(event.sequence, (lastOf.get(event.userId) ?? 0n) + 1n, `${event.eventId} in sequence order`);
      lastOf.set(event.userId, event.sequence);
    }
  });
});

/** The live feed on the real stack: Temporal, the worker, the API. */
describe('wallet events: the live feed', () => {
  let stack: TestStack;
  const ops = { as: 'ops_console', role: 'ops' as const };

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => stack.stop());

  async function fundedUser(shard: number, amount: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'feed');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) assert.equal((await stack.api.deposit(userId, amount)).body.status, 'COMPLETED');
    return userId;
  }

  it("answers a transfer's own debit on a feed opened right after the request answered (read-your-writes)", async () => {
    const alice = await fundedUser(0, 1_000);
    const bob = await fundedUser(1, 0);
    const sent = await stack.api.transfer(alice, bob, 250);
    assert.equal(sent.body.status, 'COMPLETED');
    const transferId = sent.body.transfer_id as string;
    const feed = await openFeed(stack.baseUrl, alice);
    try {
      assert.match(feed.contentType ?? '', /^text\/event-stream/);
      const events = await feed.take(5);
      assert.deepEqual(
        events.map((event) => event.event),
        ['transfer.created', 'wallet.credited', 'transfer.completed', 'transfer.created', 'wallet.debited'],
      );
      assert.deepEqual(
        events.map((event) => event.id),
        ['1', '2', '3', '4', '5'],
      );
      const debit = events[4]!.data;
      assert.equal(debit.data.transfer_id, transferId);
      assert.equal(debit.data.amount.toString(), '250');
      assert.equal(debit.data.balance_after.toString(), '750');
      assert.equal((await feed.next()).event, 'transfer.completed');
    } finally {
      feed.close();
    }
  });

  it('brings a new event to an open feed within a poll, and resumes after Last-Event-ID with nothing lost', async () => {
    const carol = await fundedUser(2, 1_000);
    const dave = await fundedUser(3, 0);
    const feed = await openFeed(stack.baseUrl, carol, { lastEventId: '3' });
    let resumeFrom: string;
    try {
      const answeredAt = Date.now();
      const sent = await stack.api.transfer(carol, dave, 100);
      assert.equal(sent.body.status, 'COMPLETED');
      const events = await feed.take(3);
      const latencyMs = Date.now() - answeredAt;
      assert.deepEqual(
        events.map((event) => event.event),
        ['transfer.created', 'wallet.debited', 'transfer.completed'],
      );
      console.log(`feed: a transfer's three events reached an open feed ${latencyMs} ms after the request was sent`);
      resumeFrom = events[1]!.id;
    } finally {
      feed.close();
    }
    // Two more transfers while no feed is open.
    for (const amount of [10, 20])
      assert.equal((await stack.api.transfer(carol, dave, amount)).body.status, 'COMPLETED');
    const resumed = await openFeed(stack.baseUrl, carol, { lastEventId: resumeFrom });
    try {
      const events = await resumed.take(7);
      assert.deepEqual(
        events.map((event) => event.id),
        ['6', '7', '8', '9', '10', '11', '12'],
      );
      assert.deepEqual(
        events.filter((event) => event.event === 'wallet.debited').map((event) => event.data.data.amount.toString()),
        ['10', '20'],
      );
    } finally {
      resumed.close();
    }
    // Dave, the recipient on another shard, hears only of the money.
    const daves = await openFeed(stack.baseUrl, dave);
    try {
      assert.deepEqual(
        (await daves.take(3)).map((event) => event.event),
        ['wallet.credited', 'wallet.credited', 'wallet.credited'],
      );
    } finally {
      daves.close();
    }
  });

  it('writes no credit for a transfer to a frozen wallet: the debit, its refund and the failure only', async () => {
    const erin = await fundedUser(0, 500);
    const frank = await fundedUser(0, 0);
    assert.equal((await stack.api.call('POST', `/v1/ops/users/${frank}/freeze`, { ...ops, body: {} })).status, 200);
    const sent = await stack.api.transfer(erin, frank, 200);
    assert.equal(sent.body.status, 'FAILED');
    const erins = (await walletEventsOf(stack, erin)).map((event) => event.type);
    assert.deepEqual(erins.slice(3), ['transfer.created', 'wallet.debited', 'wallet.credited', 'transfer.failed']);
    assert.deepEqual(
      (await walletEventsOf(stack, frank)).map((event) => event.type),
      ['wallet.frozen'],
    );
  });

  it('refuses a foreign wallet, an unknown one and a bad Last-Event-ID with documented 4xx codes', async () => {
    const grace = await fundedUser(1, 100);
    const heidi = await fundedUser(1, 0);
    const path = `/v1/wallet/${grace}/events`;
    const foreign = await stack.api.call('GET', path, { as: heidi });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, 'forbidden');
    const unknown = await stack.api.call('GET', `/v1/wallet/nobody_${uniqueName('x')}/events`, ops);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'user_not_found');
    for (const bad of ['abc', '-1', '01', '1.5', '99999999999999999999', '9223372036854775808', '4']) {
      const answer = await stack.api.call('GET', path, { as: grace, headers: { 'last-event-id': bad } });
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.body.error.code, 'invalid_last_event_id', bad);
    }
    // Its last event, ops reading: an empty feed that stays open.
    const feed = await openFeed(stack.baseUrl, grace, { ...ops, lastEventId: '3' });
    feed.close();
  });

  it('has exactly one event per committed customer entry on every shard, and every wallet gap-free', async () => {
    for (const pool of stack.shards.pools) {
      const counts = await pool.query<{ entries: string; events: string }>(
        `select (select count(*) from entries where account_id like 'customer:%')::text as entries,
                (select count(*) from wallet_events where type in ('wallet.credited', 'wallet.debited'))::text as events`,
      );
      assert.equal(counts.rows[0]!.events, counts.rows[0]!.entries);
      const gaps = await pool.query(
        `select user_id from wallet_events group by user_id having count(*) <> max(sequence) or min(sequence) <> 1`,
      );
      assert.deepEqual(gaps.rows, []);
    }
  });
});

async function walletEventsOf(stack: TestStack, userId: string): Promise<WalletEvent[]> {
  return eventsOf(stack.shards, userId);
}

/** Two real wallet processes on the same shards: sequences stay one per wallet, and a feed moves between them. */
describe('wallet events: two wallet processes', () => {
  let first: WalletProcess;
  let second: WalletProcess;

  before(async () => {
    first = await startWalletProcess();
    second = await startWalletProcess({}, first.fixture);
  });
  after(async () => {
    await second.stop();
    await first.stop();
  });

  it('keeps every wallet gap-free under transfers through both, and resumes a feed on the other after a kill', async () => {
    const users = [0, 1, 2, 3].map((shard) => userOnShard(first.shards, shard, 'two'));
    await fundUsers(first, users, 10_000);
    const feed = await openFeed(first.baseUrl, users[0]!, { lastEventId: '0' });
    const seen = await feed.take(3);
    feed.close();
    // Every user sends to every other, half through each process, all at once.
    const sends = users.flatMap((from, index) =>
      users
        .filter((to) => to !== from)
        .flatMap((to) =>
          [1, 2].map((round) =>
            (round % 2 === index % 2 ? first : second).call('POST', '/v1/wallet/transfers?wait=30', {
              as: from,
              body: {
                from_user_id: from,
                to_user_id: to,
                amount: 10 * round,
                currency: 'USD',
                idempotency_key: uniqueName('two'),
              },
            }),
          ),
        ),
    );
    const answers = await Promise.all(sends);
    assert.ok(
      answers.every((answer) => answer.body.status === 'COMPLETED'),
      JSON.stringify(answers.map((a) => a.body.status)),
    );
    for (const user of users) assertGapFree(await eventsOf(first.shards, user));
    // The first process dies; the feed goes on from the second, after the last event it had.
    await first.kill();
    const resumed = await openFeed(second.baseUrl, users[0]!, { lastEventId: seen[2]!.id });
    try {
      // users[0]: 6 transfers sent (3 events each), 6 received (1 each).
      const events = await resumed.take(24);
      assert.deepEqual(
        events.map((event) => event.id),
        Array.from({ length: 24 }, (_, index) => String(index + 4)),
      );
    } finally {
      resumed.close();
    }
  });
});
