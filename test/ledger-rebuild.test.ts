import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rebuildShard, replay_batch_size } from '../ledger/rebuild';
import { verifyShard } from '../ledger/verify';
import { insertUser } from '../ledger/users';
import { userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';

/** A post_leg call in SQL for one USD leg, with nothing to finish and no limit. */
function leg(transferId: string, name: string, userId: string, delta: number, counterparty: string, kind: string) {
  return `post_leg(p_transfer_id => ${transferId}, p_leg => '${name}', p_user_id => ${userId}, p_currency => 'USD',
                   p_customer_delta => ${delta}, p_counterparty => '${counterparty}', p_entry_kind => '${kind}',
                   p_ignore_holds => false, p_workflow_id => 'wf', p_run_id => 'run', p_finish_if_posted => null,
                   p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                   p_daily_limit => null)`;
}

/** `npm run ledger -- rebuild`: the read model rebuilt from the log, against real shard databases. */
describe('ledger rebuild', () => {
  let fixture: Awaited<ReturnType<typeof createTestShards>>;
  let alice: string;
  let bob: string;
  before(async () => {
    fixture = await createTestShards(1);
    alice = userOnShard(fixture.shards, 0, 'alice');
    bob = userOnShard(fixture.shards, 0, 'bob');
    await insertUser(fixture.shards.pool(0), alice);
    await insertUser(fixture.shards.pool(0), bob);
    // More entries than one replay batch, so paging across batches is exercised: each post_leg
    // call writes two (the wallet's and the settlement or clearing side).
    const pairs = Math.ceil(replay_batch_size / 2) + 500;
    await fixture.shards.pool(0).query(
      `select ${leg("'dep-' || i", 'credit', '$1::text', 1000, 'settlement', 'deposit')}
         from generate_series(1, $2::int) i`,
      [alice, pairs],
    );
    await fixture.shards.pool(0).query(
      `select ${leg("'tr-' || i", 'debit', '$1::text', -7, 'clearing', 'transfer_out')},
              ${leg("'tr-' || i", 'credit', '$2::text', 7, 'clearing', 'transfer_in')}
         from generate_series(1, 300) i`,
      [alice, bob],
    );
  });
  after(async () => fixture.drop());

  const rebuild = () => fixture.shards.withClient(0, (client) => rebuildShard(client));

  it('reproduces every live balance and every balance_after from the entries', async () => {
    const report = await rebuild();
    assert.ok(report.entries > replay_batch_size, `replayed ${report.entries}`);
    assert.equal(report.accounts, 4);
    assert.deepEqual([report.differenceCount, report.breakCount], [0, 0]);
  });

  it("reports a balance changed behind the ledger's back", async () => {
    const pool = fixture.shards.pool(0);
    await pool.query(`update accounts set balance = balance + 5 where account_id = $1`, [`customer:${bob}:USD`]);
    try {
      const report = await rebuild();
      assert.deepEqual(report.differences, [
        { accountId: `customer:${bob}:USD`, currency: 'USD', liveMinor: 2_105n, rebuiltMinor: 2_100n },
      ]);
      assert.equal(report.breakCount, 0);
    } finally {
      await pool.query(`update accounts set balance = balance - 5 where account_id = $1`, [`customer:${bob}:USD`]);
    }
  });

  it('names the entry whose amount was altered, as a superuser could with the append-only trigger off', async () => {
    const pool = fixture.shards.pool(0);
    const target = await pool.query<{ entry_id: string }>(
      `select entry_id::text from entries where account_id = $1 and transfer_id = 'tr-150'`,
      [`customer:${bob}:USD`],
    );
    const entryId = target.rows[0]!.entry_id;
    await pool.query('alter table entries disable trigger entries_append_only');
    try {
      await pool.query('update entries set amount = 70 where entry_id = $1', [entryId]);
    } finally {
      await pool.query('alter table entries enable trigger entries_append_only');
    }
    const report = await rebuild();
    assert.deepEqual(report.breaks[0], {
      entryId: BigInt(entryId),
      accountId: `customer:${bob}:USD`,
      recordedMinor: 1_050n,
      replayedMinor: 1_113n,
    });
    assert.equal(report.breakCount, 151, 'the altered entry and every later one of the account');
    assert.deepEqual(report.differences, [
      { accountId: `customer:${bob}:USD`, currency: 'USD', liveMinor: 2_100n, rebuiltMinor: 2_163n },
    ]);
  });

  it('reproduces the live balances of a shard with 100,000 entries', async () => {
    const big = await createTestShards(1);
    try {
      const carol = userOnShard(big.shards, 0, 'carol');
      await insertUser(big.shards.pool(0), carol);
      // A bulk load (triggers off) of 50,000 balanced postings: the customer's and settlement's sides.
      await big.shards.withTransaction(0, async (client) => {
        await client.query('set local session_replication_role = replica');
        await client.query(
          `insert into accounts (account_id, kind, user_id, currency, balance) values ($1, 'customer', $2, 'USD', 100000), ('settlement:USD', 'settlement', null, 'USD', -100000)`,
          [`customer:${carol}:USD`, carol],
        );
        await client.query(
          `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
           select 'bulk-' || i, 'credit', side.account_id, 'USD', side.sign * 2, side.sign * 2 * i, side.kind, 'bulk', 'bulk'
             from generate_series(1, 50000) i,
                  (values ($1::text, 1, 'deposit'), ('settlement:USD', -1, 'settlement')) as side (account_id, sign, kind)
            order by i`,
          [`customer:${carol}:USD`],
        );
        // Written with the triggers off, the entries have no hash chain yet: linked set by set
        // (migrations/1763769600009_ledger-chain.sql), as the migration links an existing ledger.
        await client.query('select chain_unchained_entries()');
      });
      const report = await big.shards.withClient(0, (client) => rebuildShard(client));
      assert.deepEqual(
        [report.entries, report.accounts, report.differenceCount, report.breakCount],
        [100_000, 2, 0, 0],
      );
      const verified = await big.shards.withClient(0, (client) => verifyShard(client));
      assert.deepEqual(
        [verified.entries, verified.accounts, verified.snapshots, verified.breakCount],
        [100_000, 2, 100, 0],
      );
    } finally {
      await big.drop();
    }
  });
});
