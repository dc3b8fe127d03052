import { terminateWalletConnections } from '../db/admin';
import { databaseOf, serverOf } from '../db/throwaway-databases';
import { sleep } from './client';
import type { PlannedFault } from './schedule';
import type { RailsFaultKind } from './rails-plan';
import type { WalletProcess } from './processes';
import { chaos_settings, startCluster, stopCluster, type ChaosStack } from './stack';

export interface InjectedFault {
  index: number;
  kind: PlannedFault['kind'] | RailsFaultKind;
  started_at_ms: number;
  /** When the part was back and ready (the wallet answered /readyz, the engine its namespace). */
  healed_at_ms: number;
  /** Whether the fault was confirmed: an armed crash that fired, a terminate that cut a connection. */
  happened: boolean;
  detail: string;
}

/** How long an armed wallet gets to commit a leg (and kill itself) before it is killed anyway. */
const armed_wait_max_ms = 30_000;

type FaultOutcome = Pick<InjectedFault, 'happened' | 'detail'>;

/** A terminate that found no wallet connection (its pools idle) tries again this often, this long. */
const terminate_retry_ms = 200;
const terminate_tries_max = 25;

/**
 * Injects one fault and brings the part back; resolves once it is healed. `arming` is told while
 * a ready wallet waits armed for its crash, so the run feeds it legs.
 */
export async function injectFault(
  stack: ChaosStack,
  fault: PlannedFault,
  arming: (armed: boolean) => void,
): Promise<InjectedFault> {
  const started_at_ms = Date.now();
  const { happened, detail } = await inject(stack, fault, arming);
  return { index: fault.index, kind: fault.kind, started_at_ms, healed_at_ms: Date.now(), happened, detail };
}

async function inject(stack: ChaosStack, fault: PlannedFault, arming: (armed: boolean) => void): Promise<FaultOutcome> {
  const wallet = stack.wallets[fault.wallet % stack.wallets.length]!;
  switch (fault.kind) {
    case 'wallet_kill': {
      await wallet.kill();
      await sleep(fault.down_ms);
      await wallet.start();
      return { happened: true, detail: `${wallet.name} killed, back after ${fault.down_ms} ms` };
    }
    case 'wallet_stop': {
      wallet.signal('SIGSTOP');
      await sleep(fault.down_ms);
      wallet.signal('SIGCONT');
      await wallet.waitReady();
      return {
        happened: true,
        detail: `${wallet.name} stopped ${fault.down_ms} ms (activity timeout ${chaos_settings.activity_timeout_ms} ms)`,
      };
    }
    case 'temporal_restart': {
      await stack.engine.kill();
      await sleep(fault.down_ms);
      await stack.engine.start();
      return { happened: true, detail: `engine killed, back after ${fault.down_ms} ms` };
    }
    case 'pg_restart': {
      await stopCluster(stack.second);
      await sleep(fault.down_ms);
      await startCluster(stack.second);
      return {
        happened: true,
        detail: `${stack.second.cluster} stopped (immediate), started after ${fault.down_ms} ms`,
      };
    }
    case 'pg_terminate':
      return terminateShard(stack, fault.shard);
    case 'crash_after_commit':
    case 'crash_after_debit':
      return crashArmed(wallet, fault.kind === 'crash_after_debit', arming);
  }
}

/** The wallets' connections to one shard cut (their pools only: the run's own check connections stay). */
async function terminateShard(stack: ChaosStack, shard: number): Promise<FaultOutcome> {
  // Cutting nothing is no fault: an idle moment is waited out (the workload is running).
  const shardUrl = stack.shardUrls[shard]!;
  for (let tries = 1; ; tries++) {
    const cut = await terminateWalletConnections(serverOf(shardUrl), [databaseOf(shardUrl)], 'wallet-shard-%');
    if (cut > 0 || tries >= terminate_tries_max)
      return { happened: cut > 0, detail: `${cut} connections of shard ${shard} terminated (try ${tries})` };
    await sleep(terminate_retry_ms);
  }
}

/** A wallet restarted armed: it kills itself after its first committed leg (or debit that moved money). */
async function crashArmed(
  wallet: WalletProcess,
  debitOnly: boolean,
  arming: (armed: boolean) => void,
): Promise<FaultOutcome> {
  const what = debitOnly ? 'a debit, before its credit' : 'a committed leg';
  await wallet.kill();
  await wallet.start({
    [chaos_settings.crash_hook_env]: '1000',
    [chaos_settings.crash_leg_env]: debitOnly ? 'debit' : '',
  });
  // The wait counts from readiness (a start on a busy machine can take most of it), and legs are
  // fed to the armed wallet meanwhile (the workload may be paused for a later fault).
  let crashed = (await wallet.waitArmedReady()) === 'exited';
  if (!crashed) {
    arming(true);
    try {
      crashed = await wallet.waitForOwnExit(armed_wait_max_ms);
    } finally {
      arming(false);
    }
  }
  if (!crashed) await wallet.kill();
  await wallet.start();
  // Killed by the run after the wait, it is a plain kill: it does not count as this fault.
  return crashed
    ? { happened: true, detail: `${wallet.name} killed itself after ${what}` }
    : {
        happened: false,
        detail: `${wallet.name} committed no ${debitOnly ? 'debit' : 'leg'} within ${armed_wait_max_ms} ms; killed`,
      };
}
