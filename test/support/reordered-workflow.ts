import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { WalletActivities } from '../../activities';

/**
 * A deliberately incompatible transferWorkflow for test/workflow-replay.test.ts: it sleeps
 * before its first leg, a command the recorded histories never had, so replaying them must
 * raise a nondeterminism error. Proves that the replay test can fail.
 */
export async function transferWorkflow(): Promise<void> {
  await sleep(1);
  const legs = proxyLocalActivities<WalletActivities>({ startToCloseTimeout: '1s' });
  await legs.creditWallet({
    transferId: 'x',
    userId: 'x',
    amountMinor: '1',
    currency: 'USD',
    counterparty: 'clearing',
  });
}
