import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ShardSet } from '../db/shards';
import { chainBreaksAfter } from '../ledger/reconciliation-reads';
import { reconcileShards } from '../ledger/reconciliation';
import { rebuildShard } from '../ledger/rebuild';
import { balanceFromSnapshot } from '../ledger/snapshots';
import { insertUser } from '../ledger/users';
import { verifyShard } from '../ledger/verify';
import { userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';

const run_file = promisify(execFile);

/** Postings each concurrent writer makes in the snapshot test, and how many writers run at once. */
const writer_postings = 25;
const writers = 8;

type Fixture = Awaited<ReturnType<typeof createTestShards>>;

/**
 * The ledger proves itself (migrations/1763769600009_ledger-chain.sql): each account's entries
 * form a hash chain that `npm run ledger -- verify` walks, and snapshots bound the replay of one
 * account's balance. One shard per test, so a test that breaks its ledger breaks only its own.
 */
describe('ledger hash chain, verify and snapshots', () => {
  const fixtures: Fixture[] = [];
  after(async () => {
    await Promise.all(fixtures.map((fixture) => fixture.drop()));
  });

  /** A shard with alice and bob: 30 deposits to alice, 20 transfers from alice to bob (debit and credit). */
  async function ledger(): Promise<{ fixture: Fixture; alice: string; bob: string }> {
    const fixture = await createTestShards(1);
    fixtures.push(fixture);
    const [alice, bob] = [userOnShard(fixture.shards, 0, 'alice'), userOnShard(fixture.shards, 0, 'bob')];
    const pool = fixture.shards.pool(0);
    for (const user of [alice, bob]) await insertUser(pool, user);
    for (let index = 0; index < 30; index++)
      await postLeg(pool, {
        transferId: `dep-${index}`,
        leg: 'credit',
        userId: alice,
        delta: 1_000n,
        counterparty: 'settlement',
        kind: 'deposit',
      });
    for (let index = 0; index < 20; index++) {
      await postLeg(pool, {
        transferId: `tr-${index}`,
        leg: 'debit',
        userId: alice,
        delta: -(index + 1) * 10,
        counterparty: 'clearing',
        kind: 'transfer_out',
      });
      await postLeg(pool, {
        transferId: `tr-${index}`,
        leg: 'credit',
        userId: bob,
        delta: (index + 1) * 10,
        counterparty: 'clearing',
        kind: 'transfer_in',
      });
    }
    return { fixture, alice, bob };
  }

  const verify = (shards: ShardSet, batchSize?: number) =>
    shards.withClient(0, (client) => verifyShard(client, batchSize ? { batchSize } : {}));

  it('finds a clean ledger intact, across pages of any size', async () => {
    const { fixture } = await ledger();
    for (const batchSize of [1, 7, 1_000]) {
      const report = await verify(fixture.shards, batchSize);
      assert.deepEqual(
        [report.entries, report.accounts, report.breakCount, report.first],
        [140, 4, 0, null],
        `batch size ${batchSize}`,
      );
    }
    const { stdout } = await ledgerCli(fixture, 'verify', '--shard', '0');
    assert.match(stdout, /^shard 0: verified the chains of 140 entries in 4 accounts and 0 snapshots; intact$/m);
  });

  it('names the entry whose amount was altered in SQL, in verify (exit 1) and in the reconciliation', async () => {
    const { fixture, bob } = await ledger();
    const pool = fixture.shards.pool(0);
    const accountId = `customer:${bob}:USD`;
    const target = await pool.query<{ entry_id: string }>(
      `select entry_id::text from entries where account_id = $1 and transfer_id = 'tr-9'`,
      [accountId],
    );
    const entryId = target.rows[0]!.entry_id;
    await pool.query('alter table entries disable trigger entries_append_only');
    try {
      await pool.query('update entries set amount = 1000 where entry_id = $1', [entryId]);
    } finally {
      await pool.query('alter table entries enable trigger entries_append_only');
    }

    const report = await verify(fixture.shards);
    assert.deepEqual(report.first, {
      problem: 'hash_mismatch',
      accountId,
      entryId: BigInt(entryId),
      detail: `account_seq 10: its hash is not that of its content and the previous entry's hash (changed after it was written)`,
    });
    assert.equal(
      report.breakCount,
      1,
      'one changed entry is one break: the entries after it still chain to its stored hash',
    );

    const cli = await ledgerCli(fixture, 'verify', '--shard', '0').then(
      () => assert.fail('verify must exit 1'),
      (failed: { code: number; stdout: string }) => failed,
    );
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, new RegExp(`^  first broken: entry ${entryId} of ${accountId}: hash_mismatch`, 'm'));

    const reconciled = await withConnection(fixture.urls[0]!, (client) => reconcileShards([client]));
    assert.equal(reconciled.ok, false);
    assert.deepEqual(
      reconciled.discrepancies.filter((line) => line.kind === 'chain_broken' || line.kind === 'balance_mismatch'),
      [
        {
          kind: 'balance_mismatch',
          shard: 0,
          account_id: accountId,
          currency: 'USD',
          stored: 2_100n,
          computed: 3_000n,
        },
        {
          kind: 'chain_broken',
          shard: 0,
          entry_id: entryId,
          account_id: accountId,
          currency: 'USD',
          problem: 'hash_mismatch',
        },
      ],
    );

    // The hash covers the content only: the original amount back, the chain holds again.
    await asSuperuser(pool, 'update entries set amount = 100 where entry_id = $1', [entryId]);
    assert.equal((await verify(fixture.shards)).breakCount, 0);
  });

  it('names the entry after a deleted one (a gap in account_seq), and a truncated tail', async () => {
    const { fixture, alice } = await ledger();
    const pool = fixture.shards.pool(0);
    const accountId = `customer:${alice}:USD`;
    const entries = await pool.query<{ id: string }>(
      'select entry_id::text as id from entries where account_id = $1 order by entry_id',
      [accountId],
    );
    const [deleted, next, last] = [entries.rows[4]!.id, entries.rows[5]!.id, entries.rows.at(-1)!.id];
    await asSuperuser(pool, 'delete from entries where entry_id = any($1::bigint[])', [[deleted, last]]);
    const report = await verify(fixture.shards);
    assert.deepEqual(
      report.breaks.map((broken) => [broken.problem, broken.entryId, broken.accountId]),
      [
        ['seq_gap', BigInt(next), accountId],
        ['tail_mismatch', BigInt(entries.rows.at(-2)!.id), accountId],
      ],
    );
    assert.match(report.first!.detail, /^account_seq 6 follows 4: 1 entry is missing before it$/);
  });

  it('reports entries written with the triggers off; chain_unchained_entries links them and postings go on', async () => {
    const { fixture, alice, bob } = await ledger();
    const pool = fixture.shards.pool(0);
    // A balanced posting written straight into the tables, as a bulk load or a superuser would.
    await fixture.shards.withTransaction(0, async (client) => {
      await client.query('set local session_replication_role = replica');
      await client.query(
        `insert into postings (transfer_id, leg, outcome, workflow_id, run_id) values ('bulk-1', 'credit', 'posted', 'bulk', 'bulk')`,
      );
      await client.query(
        `update accounts set balance = balance + case kind when 'customer' then 5 else -5 end where account_id in ($1, 'settlement:USD')`,
        [`customer:${bob}:USD`],
      );
      await client.query(
        `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
         select 'bulk-1', 'credit', a.account_id, 'USD', case a.kind when 'customer' then 5 else -5 end, a.balance,
                case a.kind when 'customer' then 'deposit' else 'settlement' end, 'bulk', 'bulk'
           from accounts a where a.account_id in ($1, 'settlement:USD')`,
        [`customer:${bob}:USD`],
      );
    });
    // A posting after them chains on from the newest chained entry of each account.
    await postLeg(pool, {
      transferId: 'dep-after',
      leg: 'credit',
      userId: bob,
      delta: 1n,
      counterparty: 'settlement',
      kind: 'deposit',
    });
    const broken = await verify(fixture.shards);
    assert.deepEqual(
      broken.breaks.map((line) => [line.problem, line.accountId]).sort(),
      [
        ['unchained', 'settlement:USD'],
        ['unchained', `customer:${bob}:USD`],
      ].sort(),
    );

    const linked = await fixture.shards.withTransaction(0, async (client) => {
      await client.query('set local session_replication_role = replica');
      return (await client.query<{ linked: string }>('select chain_unchained_entries()::text as linked')).rows[0]!
        .linked;
    });
    assert.equal(linked, '4', 'the unchained entries and the posting after them, on both accounts');
    await postLeg(pool, {
      transferId: 'dep-later',
      leg: 'credit',
      userId: alice,
      delta: 1n,
      counterparty: 'settlement',
      kind: 'deposit',
    });
    const report = await verify(fixture.shards);
    assert.deepEqual([report.breakCount, report.entries], [0, 146]);
  });

  it('refuses a forked chain: two entries of an account with one account_seq', async () => {
    const { fixture, alice } = await ledger();
    await assert.rejects(
      fixture.shards
        .pool(0)
        .query(`update entries set account_seq = 1 where account_seq = 2 and account_id = $1`, [
          `customer:${alice}:USD`,
        ]),
      /append-only/,
    );
    await assert.rejects(
      asSuperuser(
        fixture.shards.pool(0),
        `update entries set account_seq = 1 where account_seq = 2 and account_id = $1`,
        [`customer:${alice}:USD`],
      ),
      /entries_account_seq/,
    );
  });

  it('latest snapshot + later entries = live balance, also while postings run concurrently', async () => {
    const { fixture, alice, bob } = await ledger();
    const pool = fixture.shards.pool(0);
    const snapshotEvery = 10;
    await pool.query('update ledger_settings set snapshot_every = $1', [snapshotEvery]);
    const carol = userOnShard(fixture.shards, 0, 'carol');
    await insertUser(pool, carol);
    const users = [alice, bob, carol];
    const accounts = [...users.map((user) => `customer:${user}:USD`), 'settlement:USD', 'clearing:USD'];
    const entriesOf = async (accountId: string) =>
      (
        await pool.query<{ entries: number }>('select count(*)::int as entries from entries where account_id = $1', [
          accountId,
        ])
      ).rows[0]!.entries;
    const entriesBefore = new Map(
      await Promise.all(accounts.map(async (accountId) => [accountId, await entriesOf(accountId)] as const)),
    );

    let writing = true;
    let reads = 0;
    let snapshotReads = 0;
    const reader = (async () => {
      while (writing) {
        for (const accountId of accounts) {
          const found = await balanceFromSnapshot(pool, accountId);
          if (!found) continue;
          assert.equal(found.balanceMinor, found.liveMinor, `${accountId} mid-flight`);
          if (found.snapshotSeq !== null) {
            assert.ok(found.entriesReplayed < snapshotEvery, `${accountId} replayed ${found.entriesReplayed} entries`);
            snapshotReads++;
          }
          reads++;
        }
      }
    })();
    // Every writer deposits and moves money among the same three wallets: the settlement and
    // clearing rows take every posting, so their chains and snapshots are written under contention.
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let index = 0; index < writer_postings; index++) {
          const [from, to] = [users[(writer + index) % 3]!, users[(writer + index + 1) % 3]!];
          await postLeg(pool, {
            transferId: `w${writer}-dep-${index}`,
            leg: 'credit',
            userId: from,
            delta: 50n,
            counterparty: 'settlement',
            kind: 'deposit',
          });
          await postLeg(pool, {
            transferId: `w${writer}-tr-${index}`,
            leg: 'debit',
            userId: from,
            delta: -30n,
            counterparty: 'clearing',
            kind: 'transfer_out',
          });
          await postLeg(pool, {
            transferId: `w${writer}-tr-${index}`,
            leg: 'credit',
            userId: to,
            delta: 30n,
            counterparty: 'clearing',
            kind: 'transfer_in',
          });
        }
      }),
    ).finally(() => (writing = false));
    await reader;
    assert.ok(reads > 0);
    // Reads that started from a snapshot: without one, the replay bound above was never checked.
    assert.ok(snapshotReads > 0, `${snapshotReads} of ${reads} reads started from a snapshot`);

    for (const accountId of accounts) {
      const found = (await balanceFromSnapshot(pool, accountId))!;
      assert.equal(found.balanceMinor, found.liveMinor, accountId);
      const snapshots = await pool.query<{ snapshots: number }>(
        'select count(*)::int as snapshots from account_snapshots where account_id = $1',
        [accountId],
      );
      // Snapshots began when the setting changed; from then on one at every tenth entry.
      const expected =
        Math.floor((await entriesOf(accountId)) / snapshotEvery) -
        Math.floor(entriesBefore.get(accountId)! / snapshotEvery);
      assert.ok(expected > 0, `${accountId}: the writers gave it at least one snapshot to check`);
      assert.equal(snapshots.rows[0]!.snapshots, expected, accountId);
    }
    const settlement = await pool.query<{ seqs: string[] }>(
      `select array_agg(account_seq::text order by account_seq) as seqs from account_snapshots where account_id = 'settlement:USD'`,
    );
    const seqs = settlement.rows[0]!.seqs ?? [];
    assert.ok(seqs.length > 0, 'settlement has snapshots');
    assert.ok(
      seqs.every((seq) => BigInt(seq) % 10n === 0n),
      `snapshot seqs ${seqs}`,
    );

    const verified = await verify(fixture.shards);
    assert.deepEqual([verified.breakCount, verified.snapshots > 40], [0, true]);
    const rebuilt = await fixture.shards.withClient(0, (client) => rebuildShard(client));
    assert.deepEqual([rebuilt.differenceCount, rebuilt.breakCount], [0, 0]);

    // A snapshot changed behind the ledger's back is reported, and no longer trusted by verify.
    await asSuperuser(
      pool,
      `update account_snapshots set balance = balance + 1 where account_id = 'settlement:USD' and account_seq = 100`,
      [],
    );
    const tampered = await verify(fixture.shards);
    assert.deepEqual(
      tampered.breaks.map((line) => [line.problem, line.accountId]),
      [['snapshot_mismatch', 'settlement:USD']],
    );
  });

  it('checks the chain of an id range for reconciliation, and says how far it is settled', async () => {
    const { fixture } = await ledger();
    const range = await fixture.shards.withClient(0, (client) =>
      chainBreaksAfter(client, { afterEntryId: 0n, limit: 100, settleMs: 0, listedMax: 10 }),
    );
    assert.deepEqual(
      [range.checked, range.breaks.total, range.settledThrough, range.lastEntryId],
      [100, 0, range.lastEntryId, range.lastEntryId],
    );
    const unsettled = await fixture.shards.withClient(0, (client) =>
      chainBreaksAfter(client, { afterEntryId: range.lastEntryId!, limit: 100, settleMs: 3_600_000, listedMax: 10 }),
    );
    assert.deepEqual([unsettled.checked, unsettled.settledThrough], [40, null]);
    const report = await withConnection(fixture.urls[0]!, (client) => reconcileShards([client]));
    assert.equal(report.ok, true);
    assert.deepEqual(report.chain, [{ shard: 0, checked_through: 0n, swept_through: 0n, entries_checked: 140 }]);
  });
});

async function postLeg(
  pool: pg.Pool,
  leg: {
    transferId: string;
    leg: 'debit' | 'credit';
    userId: string;
    delta: bigint | number;
    counterparty: string;
    kind: string;
  },
): Promise<void> {
  const posted = await pool.query<{ outcome: string }>(
    `select outcome
       from post_leg(p_transfer_id => $1::text, p_leg => $2::text, p_user_id => $3::text, p_currency => 'USD',
                     p_customer_delta => $4::bigint, p_counterparty => $5::text, p_entry_kind => $6::text,
                     p_ignore_holds => false, p_workflow_id => 'wf', p_run_id => 'run', p_finish_if_posted => null,
                     p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                     p_daily_limit => null)`,
    [leg.transferId, leg.leg, leg.userId, leg.delta.toString(), leg.counterparty, leg.kind],
  );
  assert.equal(posted.rows[0]!.outcome, 'posted');
}

/** What a superuser can do: the append-only triggers off for one statement, in one transaction. */
async function asSuperuser(pool: pg.Pool, text: string, values: unknown[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('set local session_replication_role = replica');
    await client.query(text, values);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

async function withConnection<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function ledgerCli(fixture: Fixture, ...args: string[]) {
  return run_file(process.execPath, ['--import', 'tsx', 'scripts/ledger.ts', ...args], {
    env: { ...process.env, SHARD_URLS: fixture.urls.join(',') },
  });
}
