import type { Server } from 'node:http';
import type { BankConfig } from '../config/bank';
import { AchFiles } from '../rails/ach/ach-files';
import { bankPool, prepareBankDatabase } from './database';
import { createBankApp } from './http';
import { makeOutgoingFiles } from './outgoing-files';
import { settleDueEntries } from './settlement';

/** How often the bank looks at its clock: often enough that nothing waits much past its banking day. */
function tickIntervalMsOf(bankDayMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(bankDayMs / 5)));
}

type Log = (line: object) => void;

/**
 * The bank: its database migrated, its HTTP API listening, and its clock ticking (settlements,
 * returns, files for the wallet). Everything it knows is in its database, so a restart resumes
 * where the last process stopped. Resolves once listening; stop() drains and closes.
 */
export async function startBank(settings: BankConfig, log: Log): Promise<{ port: number; stop: () => Promise<void> }> {
  await prepareBankDatabase(settings.BANK_DATABASE_URL);
  const pool = bankPool(settings.BANK_DATABASE_URL);
  const files = new AchFiles(settings.achServerUrl);
  const bank = { routing: settings.BANK_ROUTING, name: settings.BANK_NAME };
  const app = createBankApp({ pool, files, bank, bankDayMs: settings.BANK_DAY, token: settings.BANK_TOKEN, log });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(settings.BANK_PORT, settings.BANK_HOST, () => resolve(listening));
    listening.once('error', reject);
  });
  let stopping = false;
  let tick: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // One tick at a time: a slow one (the ACH server, the database) delays the next, never overlaps it.
    tick = tick.then(async () => {
      if (stopping) return;
      await runTick(pool, files, bank).catch((error: unknown) =>
        log({ level: 'warn', msg: 'bank tick failed; the next one retries', error: String(error) }),
      );
    });
  }, tickIntervalMsOf(settings.BANK_DAY));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : settings.BANK_PORT,
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await tick;
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  };
}

async function runTick(pool: ReturnType<typeof bankPool>, files: AchFiles, bank: { routing: string; name: string }) {
  await settleDueEntries(pool);
  await makeOutgoingFiles(pool, files, bank);
}
