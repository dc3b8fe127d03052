import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dumpSchema, schema_file, schema_refresh_command } from '../db/schema-dump';
import { createTestShards } from './support/shards';

const diff_lines_max = 120;

/** `diff -u` of the committed dump against the fresh one, cut to a readable length. */
function unifiedDiff(committed: string, fresh: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'wallet-schema-'));
  try {
    const freshFile = path.join(directory, 'schema.sql');
    writeFileSync(freshFile, fresh);
    const labels = ['--label', 'db/schema.sql (committed)', '--label', 'db/schema.sql (migrated now)'];
    const lines = spawnSync('diff', ['-u', ...labels, schema_file, freshFile], { encoding: 'utf8' }).stdout.split('\n');
    const cut = lines.length > diff_lines_max ? [`... ${lines.length - diff_lines_max} more lines`] : [];
    return [...lines.slice(0, diff_lines_max), ...cut].join('\n');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The committed schema dump must be what the migrations and db/functions/ build today. */
describe('schema dump', () => {
  it('db/schema.sql is the schema of a freshly migrated shard', async () => {
    const fixture = await createTestShards(1);
    try {
      const fresh = await dumpSchema(fixture.urls[0]!);
      const committed = readFileSync(schema_file, 'utf8');
      if (fresh !== committed)
        assert.fail(
          `db/schema.sql is stale: run \`${schema_refresh_command}\` and commit the result.\n${unifiedDiff(committed, fresh)}`,
        );
    } finally {
      await fixture.drop();
    }
  });
});
