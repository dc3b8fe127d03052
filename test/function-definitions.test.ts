import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { applyFunctionDefinitions, readFunctionDefinitions } from '../db/function-definitions';
import { createTestShards } from './support/shards';

/** expire_review's definition with a marker comment in its body, as a reworked money rule would be. */
function reworked(marker: string) {
  return readFunctionDefinitions().map((definition) =>
    definition.name === 'expire_review'
      ? { ...definition, sql: definition.sql.replace('begin\n', `begin\n  -- ${marker}\n`), checksum: marker }
      : definition,
  );
}

async function bodyOf(client: pg.ClientBase, name: string): Promise<string> {
  const found = await client.query<{ prosrc: string }>('select prosrc from pg_proc where proname = $1::text', [name]);
  assert.equal(found.rowCount, 1);
  return found.rows[0]!.prosrc;
}

/** db/functions/ applied as repeatable definitions (db/function-definitions.ts), on real shard databases. */
describe('function definitions', () => {
  let fixture: Awaited<ReturnType<typeof createTestShards>>;
  before(async () => {
    fixture = await createTestShards(1);
  });
  after(async () => fixture.drop());
  const withClient = <T>(work: (client: pg.PoolClient) => Promise<T>) => fixture.shards.withClient(0, work);

  it('a migrated shard holds every file, recorded with its checksum; applying again changes nothing', async () => {
    const definitions = readFunctionDefinitions();
    const recorded = await withClient((client) =>
      client.query<{ name: string; checksum: string }>('select name, checksum from function_definitions order by name'),
    );
    const expected = definitions.map(({ name, checksum }) => ({ name, checksum }));
    assert.deepEqual(
      recorded.rows,
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    );
    assert.deepEqual(await withClient((client) => applyFunctionDefinitions(client)), []);
  });

  it('a changed file is applied again, alone, and its body is the one that runs', async () => {
    const applied = await withClient((client) => applyFunctionDefinitions(client, reworked('rework one')));
    assert.deepEqual(applied, ['expire_review']);
    assert.match(await withClient((client) => bodyOf(client, 'expire_review')), /-- rework one/);
    // Back to the committed file: changed again, so applied again.
    assert.deepEqual(await withClient((client) => applyFunctionDefinitions(client)), ['expire_review']);
    assert.doesNotMatch(await withClient((client) => bodyOf(client, 'expire_review')), /rework one/);
  });

  it('two migrators racing on one shard apply a change once, one after the other', async () => {
    // The pause holds the first migrator inside its transaction long enough for the second to
    // start: without the lock both would read the old checksums and both apply.
    const pause = { name: 'pause', sql: 'select pg_sleep(0.3)', checksum: 'pause' };
    const definitions = [pause, ...reworked('rework two')];
    const [first, second] = await Promise.all([
      withClient((client) => applyFunctionDefinitions(client, definitions)),
      withClient((client) => applyFunctionDefinitions(client, definitions)),
    ]);
    assert.deepEqual([...first, ...second], ['pause', 'expire_review']);
    await withClient((client) => applyFunctionDefinitions(client));
  });

  it('a definition that fails leaves every definition and checksum as it was', async () => {
    const broken = [...reworked('rework three'), { name: 'broken', sql: 'create or replace function', checksum: 'x' }];
    await assert.rejects(
      withClient((client) => applyFunctionDefinitions(client, broken)),
      /syntax error/,
    );
    assert.doesNotMatch(await withClient((client) => bodyOf(client, 'expire_review')), /rework three/);
    const rows = await withClient((client) => client.query("select 1 from function_definitions where name = 'broken'"));
    assert.equal(rows.rowCount, 0);
  });

  it('refuses a folder whose files and the order list disagree', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'wallet-functions-'));
    try {
      cpSync(path.join(import.meta.dirname, '..', 'db', 'functions'), directory, { recursive: true });
      writeFileSync(
        path.join(directory, 'new_rule.sql'),
        'create or replace function new_rule() returns int language sql as $$ select 1 $$;',
      );
      rmSync(path.join(directory, 'leg_outcome.sql'));
      assert.throws(
        () => readFunctionDefinitions(directory),
        /unlisted files \[new_rule\], listed without a file \[leg_outcome\]/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
