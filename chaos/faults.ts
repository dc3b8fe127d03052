import { terminateWalletConnections } from '../db/admin';
import { databaseOf, serverOf } from '../db/throwaway-databases';
import { sleep } from './client';
import type { PlannedFault } from './schedule';
import { chaos_settings, startCluster, stopCluster, type ChaosStack } from './stack';

export interface InjectedFault {
  index: number;
  kind: PlannedFault['kind'];
  started_at_ms: number;
  /** When the part was back and ready (the wallet answered /readyz, the engine its namespace). */
  healed_at_ms: number;
  detail: string;
}

/** How long an armed wallet gets to commit a leg (and kill itself) before it is killed anyway. */
const armed_wait_max_ms = 30_000;

/** Injects one fault and brings the part back; resolves once it is healed. */
export async function injectFault(stack: ChaosStack, fault: PlannedFault): Promise<InjectedFault> {
  const started_at_ms = Date.now();
  const detail = await inject(stack, fault);
  return { index: fault.index, kind: fault.kind, started_at_ms, healed_at_ms: Date.now(), detail };
}

async function inject(stack: ChaosStack, fault: PlannedFault): Promise<string> {
  const wallet = stack.wallets[fault.wallet % stack.wallets.length]!;
  switch (fault.kind) {
    case 'wallet_kill': {
      await wallet.kill();
      await sleep(fault.down_ms);
      await wallet.start();
      return `${wallet.name} killed, back after ${fault.down_ms} ms`;
    }
    case 'wallet_stop': {
      wallet.signal('SIGSTOP');
      await sleep(fault.down_ms);
      wallet.signal('SIGCONT');
      await wallet.waitReady();
      return `${wallet.name} stopped ${fault.down_ms} ms (activity timeout ${chaos_settings.activity_timeout_ms} ms)`;
    }
    case 'temporal_restart': {
      await stack.engine.kill();
      await sleep(fault.down_ms);
      await stack.engine.start();
      return `engine killed, back after ${fault.down_ms} ms`;
    }
    case 'pg_restart': {
      await stopCluster(stack.second);
      await sleep(fault.down_ms);
      await startCluster(stack.second);
      return `${stack.second.cluster} stopped (immediate), started after ${fault.down_ms} ms`;
    }
    case 'pg_terminate': {
      // The wallet's shard pools only: the run's own check connections stay.
      const shardUrl = stack.shardUrls[fault.shard]!;
      const cut = await terminateWalletConnections(serverOf(shardUrl), [databaseOf(shardUrl)], 'wallet-shard-%');
      return `${cut} connections of shard ${fault.shard} terminated`;
    }
    case 'crash_after_commit':
    case 'crash_after_debit': {
      const debitOnly = fault.kind === 'crash_after_debit';
      const what = debitOnly ? 'a debit, before its credit' : 'a committed leg';
      await wallet.kill();
      await wallet.start({
        [chaos_settings.crash_hook_env]: '1000',
        [chaos_settings.crash_leg_env]: debitOnly ? 'debit' : '',
      });
      const crashed = await wallet.waitForOwnExit(armed_wait_max_ms);
      if (!crashed) await wallet.kill();
      await wallet.start();
      return crashed
        ? `${wallet.name} killed itself after ${what}`
        : `${wallet.name} committed no ${debitOnly ? 'debit' : 'leg'} within ${armed_wait_max_ms} ms; killed`;
    }
  }
}
