import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { seededRandom } from '../bench/load/prng';
import { config } from '../config';
import { walletDataConverter } from '../temporal-client/payload-codec';
import { workflows_path } from '../workers/create-worker';
import type { InvariantResult } from './invariants';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
const fetches_at_once = 8;

/**
 * Invariant 7: every workflow of the run (a seeded sample when there are more than `max`) is
 * fetched from the engine and replayed with the current workflow code; a nondeterminism error
 * fails it. Histories come from the SDK client (the same history the CLI's `workflow show` prints).
 */
export async function replayHistories(
  address: string,
  seed: number,
  max: number,
  recordIds: ReadonlySet<string>,
): Promise<InvariantResult> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const ids: string[] = [];
    for await (const execution of client.workflow.list()) ids.push(execution.workflowId);
    const unique = [...new Set(ids)].sort();
    const chosen = sample(unique, max, seed);
    const histories: { workflowId: string; history: History }[] = [];
    for (let start = 0; start < chosen.length; start += fetches_at_once) {
      const batch = chosen.slice(start, start + fetches_at_once);
      histories.push(
        ...(await Promise.all(
          batch.map(async (workflowId) => ({
            workflowId,
            history: (await client.workflow.getHandle(workflowId).fetchHistory()) as History,
          })),
        )),
      );
    }
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: workflows_path, logger: quiet });
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      // The histories are encrypted as the wallets wrote them: the replay decrypts with the same keys.
      { workflowBundle, replayName: 'wallet-chaos-replay', dataConverter: walletDataConverter(config().payloadKeys) },
      histories,
    )) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    // Each transfer record has its workflow (its id is the transfer id): replaying fewer than the
    // records, or none, proves nothing about them.
    const engineIds = new Set(unique);
    const withoutWorkflow = [...recordIds].filter((id) => !engineIds.has(id));
    const replayed_min = Math.min(recordIds.size, max);
    return {
      id: 7,
      name: 'every workflow history replays with the current code',
      held:
        failures.length === 0 &&
        replayed === chosen.length &&
        replayed >= replayed_min &&
        replayed > 0 &&
        withoutWorkflow.length === 0,
      figures: `${recordIds.size} transfer records, ${unique.length} workflows in the engine (${withoutWorkflow.length} records without one), ${replayed} replayed${chosen.length < unique.length ? ' (seeded sample)' : ' (all)'}, at least ${replayed_min} needed; ${failures.length} nondeterministic`,
      examples: [...failures, ...withoutWorkflow.map((id) => `${id}: a record with no workflow in the engine`)].slice(
        0,
        5,
      ),
    };
  } finally {
    await connection.close();
  }
}

function sample(ids: string[], max: number, seed: number): string[] {
  if (ids.length <= max) return ids;
  const random = seededRandom(seed ^ 0x7e91a7);
  const copy = [...ids];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy.slice(0, max).sort();
}
