import type { Leg, PostingResult } from '../ledger/postings';

/**
 * Fault hook of `npm run chaos` only: the process kills itself after a committed leg, before it
 * reports the leg. The composition root hands it in from config (WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE,
 * WALLET_CHAOS_CRASH_AFTER_LEG); absent or at 0 everywhere else.
 */
export interface ChaosCrash {
  /** Per mille of committed legs after which the process sends itself SIGKILL. */
  afterCommitPermille: number;
  /** Only a debit that moved money counts, so the kill lands between a debit and its credit. */
  debitOnly: boolean;
}

/** Unarmed, a leg pays one comparison. */
export function crashIfDue(hook: ChaosCrash | undefined, leg: Leg, outcome: PostingResult['outcome']): void {
  if (!hook || hook.afterCommitPermille <= 0) return;
  if (hook.debitOnly && (leg !== 'debit' || outcome !== 'posted')) return;
  if (Math.random() * 1000 < hook.afterCommitPermille) process.kill(process.pid, 'SIGKILL');
}
