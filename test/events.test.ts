import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'lossless-json';
import pino from 'pino';
import { createActivities } from '../activities';
import type { LegInput } from '../domain/transfer-legs';
import { wallet_event_types } from '../domain/wallet-events';
import { insertUser, setFrozen } from '../ledger/users';
import { drain_start, shardEventsAfter, walletEventsAfter, type WalletEvent } from '../ledger/wallet-events';
import { userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';
import { mockActivityRunner, uniqueName } from './support/temporal';

/** Every event of a wallet, in sequence order. */
async function eventsOf(shards: Fixture['shards'], userId: string): Promise<WalletEvent[]> {
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

  it('writes freeze and unfreeze with the ops action, and a shard drain sees every event once', async () => {
    const dave = await userWith(0n, 1);
    for (const frozen of [true, false])
      await fixture.shards.withTransaction(1, (client) =>
        setFrozen(client, { userId: dave, frozen, operator: 'ops@example.com', reason: 'test' }),
      );
    assert.deepEqual(
      (await eventsOf(fixture.shards, dave)).map((event) => event.type),
      ['wallet.frozen', 'wallet.unfrozen'],
    );
    const drained: WalletEvent[] = [];
    let cursor = drain_start;
    for (;;) {
      const page = await shardEventsAfter(fixture.shards.pool(1), { after: cursor, limit: 7 });
      if (page.length === 0) break;
      drained.push(...page);
      cursor = page[page.length - 1]!.cursor;
    }
    const all = await fixture.shards
      .pool(1)
      .query<{ count: string }>('select count(*)::text as count from wallet_events');
    assert.equal(drained.length, Number(all.rows[0]!.count));
    assert.equal(new Set(drained.map((event) => event.eventId)).size, drained.length);
    for (const event of drained) assert.ok(wallet_event_types.includes(event.type), event.type);
  });
});
