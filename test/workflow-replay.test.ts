import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { historyFromCliJson } from './support/history-json';
import { test_data_converter, workflowBundle } from './support/temporal';

/**
 * Transfers can stay open for days (the reversal window, review holds, credits that retry), and
 * so can a webhook delivery that retries a failing endpoint, so a deploy meets workflows started
 * by the previous code. Every history recorded from earlier
 * code (test/fixtures/workflow-histories, `<commit>--<shape>.json`, made by
 * test/support/record-histories.ts) must replay with the current workflow code without a
 * nondeterminism error. A change that reorders or adds commands must go through patched() or
 * worker versioning, and ships with fresh fixtures of the code before it.
 *
 * Since the payload codec (temporal-client/payload-codec.ts) fixtures are recorded encrypted
 * under the development key; those from before it are plain. The replay decodes with the
 * wallet's data converter, which passes plain payloads through, so both kinds replay.
 */
const fixtures_dir = path.join(import.meta.dirname, 'fixtures', 'workflow-histories');

describe('workflow replay of recorded histories', () => {
  it('replays every fixture with the current workflow code', async () => {
    const files = (await readdir(fixtures_dir)).filter((file) => file.endsWith('.json')).sort();
    assert.ok(files.length >= 9, `expected the recorded fixtures, found ${files.length}`);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file.replace(/\.json$/, ''),
        history: historyFromCliJson(JSON.parse(await readFile(path.join(fixtures_dir, file), 'utf8'))),
      })),
    );
    const failures: string[] = [];
    const replayed: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), replayName: 'wallet-replay', dataConverter: test_data_converter },
      histories,
    )) {
      replayed.push(result.workflowId);
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(replayed.sort(), histories.map((entry) => entry.workflowId).sort());
  });

  it('replays plain and encrypted fixtures alike, and an encrypted one needs the key', async () => {
    const files = (await readdir(fixtures_dir)).filter((file) => file.endsWith('.json')).sort();
    const texts = await Promise.all(files.map((file) => readFile(path.join(fixtures_dir, file), 'utf8')));
    // "binary/encrypted" in base64, as the CLI writes metadata values.
    const marker = Buffer.from('binary/encrypted').toString('base64');
    const encrypted = files.filter((_, index) => texts[index]!.includes(marker));
    assert.ok(encrypted.length >= 1, 'no fixture recorded with the payload codec');
    assert.ok(encrypted.length < files.length, 'no fixture from before the payload codec');
    const file = encrypted.find((name) => name.endsWith('--completed-transfer.json')) ?? encrypted[0]!;
    const history = historyFromCliJson(JSON.parse(await readFile(path.join(fixtures_dir, file), 'utf8')));
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: 'wallet-replay-no-key' }, history),
      /Unknown encoding: binary\/encrypted/,
    );
  });

  it('notices a nondeterministic change (the check can fail)', async () => {
    // The same histories against a workflow that runs its legs in another order must fail.
    const file = (await readdir(fixtures_dir)).find((name) => name.endsWith('--completed-transfer.json'))!;
    const history = historyFromCliJson(JSON.parse(await readFile(path.join(fixtures_dir, file), 'utf8')));
    const reordered = await import('@temporalio/worker').then(({ bundleWorkflowCode }) =>
      bundleWorkflowCode({
        workflowsPath: path.join(import.meta.dirname, 'support', 'reordered-workflow.ts'),
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
      }),
    );
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: reordered, replayName: 'wallet-replay-reordered', dataConverter: test_data_converter },
        history,
        'reordered',
      ),
      /[Nn]ondetermin|DeterminismViolation/,
    );
  });
});
