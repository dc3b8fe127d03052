import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ShardSet } from '../db/shards';
import { matchSettlement, settlementKeyOf, type LedgerSettlementLines } from '../domain/settlement-match';
import { reference_shard } from '../domain/shard-routing';
import { insertSettlementRun, type SettlementRunSummary } from '../ledger/settlement-runs';
import { storedJson } from '../ledger/reconciliation-runs';
import type { BankTransport } from '../rails/bank-transport';

/** Where a run's outcome is shown at once (metrics/settlement-metrics.ts). */
export interface SettlementGauges {
  record(run: SettlementRunSummary): void;
}

export interface SettlementReconcileDependencies {
  shards: ShardSet;
  logger: Logger;
  bank: Pick<BankTransport, 'statement'>;
  ledger: LedgerSettlementLines;
  /** SETTLEMENT_GRACE: a bank line younger than this that the ledger lacks is in transit, not a break. */
  graceMs: number;
  gauges?: SettlementGauges;
}

export interface SettlementRunResult {
  runId: string;
  date: string;
  ok: boolean;
  breakCount: number;
}

/** Lines listed one per error log line at most this many; the stored report has them all. */
const logged_breaks_max = 100;

export function createSettlementActivities(deps: SettlementReconcileDependencies) {
  return {
    /**
     * Matches one banking day's statement against the ledger (domain/settlement-match.ts), records
     * the run on the reference shard, and makes every break loud: an error line each (up to a
     * bound) and the gauges. Reads only: a run moves no money, so running it again is harmless.
     */
    async reconcileSettlement(date: string): Promise<SettlementRunResult> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? null;
      const startedAt = new Date();
      const [statement, adjacent] = await Promise.all([
        deps.bank.statement(date),
        Promise.all([addDays(date, -1), addDays(date, 1)].map((day) => deps.bank.statement(day))),
      ]);
      const [ledgerLinesForBankLines, ledgerLinesOfDay] = await Promise.all([
        deps.ledger.withKeys(statement.lines),
        deps.ledger.ofDay(date),
      ]);
      const match = matchSettlement({
        date,
        bankLines: statement.lines,
        adjacentBankKeys: new Set(adjacent.flatMap((day) => day.lines.map(settlementKeyOf))),
        ledgerLinesForBankLines,
        ledgerLinesOfDay,
        now: new Date(),
        graceMs: deps.graceMs,
      });
      const report = {
        ...match,
        statement: {
          currency: statement.currency,
          openingBalanceMinor: statement.openingBalanceMinor,
          closingBalanceMinor: statement.closingBalanceMinor,
        },
      };
      const run = await insertSettlementRun(deps.shards.pool(reference_shard), {
        startedAt,
        finishedAt: new Date(),
        report,
        workflowId,
      });
      deps.gauges?.record(run);

      const log = deps.logger.child({ settlement_run_id: run.runId.toString(), statement_date: date });
      const listed: Record<'missingInLedger' | 'missingAtBank' | 'amountMismatches', object[]> = JSON.parse(
        storedJson(match),
      );
      const breaks = [
        ...listed.missingInLedger.map((line) => ({ break: 'missing_in_ledger', ...line })),
        ...listed.missingAtBank.map((line) => ({ break: 'missing_at_bank', ...line })),
        ...listed.amountMismatches.map((line) => ({ break: 'amount_mismatch', ...line })),
      ];
      for (const found of breaks.slice(0, logged_breaks_max))
        log.error({ settlement_break: found }, 'settlement break');
      if (match.ok)
        log.info({ matched: match.matched.count, in_transit: match.inTransit.length }, 'settlement reconciled');
      else log.error({ break_count: match.breakCount }, 'settlement reconciliation found breaks');
      return { runId: run.runId.toString(), date, ok: match.ok, breakCount: match.breakCount };
    },
  };
}

export type SettlementActivities = ReturnType<typeof createSettlementActivities>;

function addDays(date: string, days: number): string {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}
