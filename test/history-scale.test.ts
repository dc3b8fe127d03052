import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { historyOf } from '../ledger/reads';
import { insertUser } from '../ledger/users';
import { userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';

const entries_count = 1_000_000;
const page_size = 50;

/**
 * History pages cost O(log n) on a wallet with a million entries: the query plan reads about one
 * page of entries per wallet, at the start and deep in the history. Plans, not timings: the
 * buffers touched and the rows read are what grow with n if an index is missing.
 */
describe('history at a million entries', () => {
  let fixture: Awaited<ReturnType<typeof createTestShards>>;
  let alice: string;
  before(async () => {
    fixture = await createTestShards(1);
    alice = userOnShard(fixture.shards, 0, 'big');
    const pool = fixture.shards.pool(0);
    await insertUser(pool, alice);
    // Written straight into the tables with triggers off (the posting and balance checks), as a
    // bulk load would be: a million postings through post_leg would take minutes.
    await fixture.shards.withTransaction(0, async (client) => {
      await client.query(`set local session_replication_role = replica`);
      await client.query(
        `insert into accounts (account_id, kind, user_id, currency, balance) values
           ($1, 'customer', $2, 'USD', $3), ($4, 'customer', $2, 'EUR', 0)`,
        [`customer:${alice}:USD`, alice, entries_count, `customer:${alice}:EUR`],
      );
      await client.query(
        `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id, created_at, posted_at)
         select 'bulk-' || i, 'credit', $1, 'USD', 1, i, 'deposit', 'bulk', 'bulk',
                timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01' + i * interval '1 second'
           from generate_series(1, $2::int) i`,
        [`customer:${alice}:USD`, entries_count],
      );
    });
    await pool.query('analyze entries');
  });
  after(async () => fixture.drop());

  async function plan(beforeEntryId: bigint | null, currency: string | null) {
    const client = await fixture.shards.pool(0).connect();
    try {
      // The same statement historyOf runs, explained: capture it from the pool's query.
      let text = '';
      let values: unknown[] = [];
      const capture = {
        query: async (sql: string, parameters: unknown[]) => ((text = sql), (values = parameters), { rows: [] }),
      };
      await historyOf(capture as never, {
        userId: alice,
        limit: page_size + 1,
        ...(beforeEntryId ? { beforeEntryId } : {}),
        ...(currency ? { currency } : {}),
      });
      const explained = await client.query<{ 'QUERY PLAN': unknown }>(
        `explain (analyze, buffers, format json) ${text}`,
        values,
      );
      return JSON.stringify(explained.rows[0]!['QUERY PLAN']);
    } finally {
      client.release();
    }
  }

  for (const [name, cursor] of [
    ['the first page', null],
    ['a page 900,000 entries deep', 100_000n],
  ] as const) {
    it(`reads about one page for ${name}, with and without a currency filter`, async () => {
      for (const currency of [null, 'USD']) {
        const explained = await plan(cursor === null ? null : await entryIdAt(cursor), currency);
        assert.match(explained, /entries_account_posted/, 'the scan uses the (account, posted time) index');
        const entryRows = [...explained.matchAll(/"Relation Name":"entries"[^}]*?"Actual Rows":(\d+)/g)].map((match) =>
          Number(match[1]),
        );
        assert.ok(
          entryRows.length > 0 && entryRows.every((rows) => rows <= page_size + 1),
          `rows read from entries: ${entryRows}`,
        );
        // Only the execution's nodes: the "Planning" section counts catalog reads, which a fresh
        // connection makes once whatever the query (233 were seen on a busy machine).
        const executed = JSON.stringify((JSON.parse(explained) as { Plan: unknown }[])[0]!.Plan);
        const buffers = [...executed.matchAll(/"Shared Hit Blocks":(\d+),"Shared Read Blocks":(\d+)/g)].map(
          (match) => Number(match[1]) + Number(match[2]),
        );
        // Math.max() of nothing is -Infinity: a plan without buffer counts must fail, not pass.
        assert.ok(buffers.length > 0, `no buffer counts in the plan: ${explained.slice(0, 300)}`);
        assert.ok(
          Math.max(...buffers) < 200,
          `buffers touched: ${Math.max(...buffers)} (a scan of the history would touch thousands)`,
        );
      }
    });
  }

  it('pages through the history in order without skipping or repeating', async () => {
    const pool = fixture.shards.pool(0);
    const first = await historyOf(pool, { userId: alice, limit: 3 });
    const second = await historyOf(pool, { userId: alice, limit: 3, beforeEntryId: first.at(-1)!.entryId });
    assert.deepEqual(
      [...first, ...second].map((entry) => entry.balanceAfterMinor),
      [1_000_000n, 999_999n, 999_998n, 999_997n, 999_996n, 999_995n],
    );
  });

  async function entryIdAt(balanceAfter: bigint): Promise<bigint> {
    const found = await fixture.shards
      .pool(0)
      .query<{ entry_id: string }>('select entry_id from entries where account_id = $1 and balance_after = $2', [
        `customer:${alice}:USD`,
        balanceAfter.toString(),
      ]);
    return BigInt(found.rows[0]!.entry_id);
  }
});
