import { formatMinor } from '../../domain/money';
import type { LatencySummary } from '../load/histogram';
import type { PhaseResult } from '../load/phase';
import type { PayoutStages } from '../payouts';
import type { BenchOptions } from '../options';
import { bench_currency } from '../targets/http-transfers';
import type { ApiCheck } from '../verify/api';
import type { LedgerCheck } from '../verify/ledger';
import type { PhaseRatios } from './ratios';
import type { ScenarioResult } from '../scenarios/groups';
import type { BenchReport } from './types';

const phase_titles = {
  transfers: 'Transfers (wallet API → Temporal → shards)',
  floor: 'Engine floor (no-op workflow, same shape)',
  raw_pg: 'Raw PostgreSQL (debit + credit in one local transaction)',
};

/** The report as markdown: options, one table per phase, ratios, checks, notes. */
export function renderMarkdown(report: BenchReport): string {
  const lines = [`# Wallet benchmark, ${report.started_at}`, '', optionsLine(report.options, report), ''];
  for (const phase of report.phases) lines.push(...phaseSection(phase), '');
  if (report.scenario) lines.push(...scenarioSection(report.scenario), '');
  if (report.payouts) lines.push(...payoutSection(report.payouts), '');
  lines.push(...ratioSection(report.ratios, report.options.mode), '');
  lines.push(...checkSection(report), '');
  if (report.notes.length > 0) lines.push('## Notes', '', ...report.notes.map((note) => `- ${note}`), '');
  return lines.join('\n');
}

function optionsLine(options: BenchOptions, report: BenchReport): string {
  const load = {
    open: `open loop at ${options.rate_per_s}/s`,
    closed: `closed loop, ${options.concurrency} in flight`,
    payroll: `payroll, one batch of ${options.payroll_items}`,
    burst: `burst of ${options.burst} within ${options.burst_window_s} s on an open loop at ${options.rate_per_s}/s`,
    'blocked-shard': `open loop at ${options.rate_per_s}/s, the last shard's accounts locked for ${options.lock_s} s`,
  }[options.mode];
  const stack =
    report.stack.kind === 'target'
      ? `target ${report.stack.wallet_origins.join(', ')}`
      : `throwaway stack, ${options.processes} ${options.split ? 'API + worker process pairs' : 'wallet process(es)'}${options.shard_servers.length > 0 ? ` on ${options.shard_servers.join(', ')}` : ''}`;
  return [
    `**Options:** ${load}, ${options.duration_s} s measured after ${options.warmup_s} s warmup; ${options.users} users on ${options.shards} shards,`,
    `skew ${options.skew}, cross-shard ${options.cross_shard_fraction}${options.fx_fraction > 0 ? `, converting ${options.fx_fraction}` : ''}; baselines ${options.baselines.join(',') || 'none'}; ${stack}; seed ${options.seed}; flow ${options.flow}.`,
    `Temporal ${report.stack.temporal_address}; Node ${report.environment.node}, ${report.environment.cpus} CPUs, load average at start ${report.environment.load_average_at_start.map((value) => value.toFixed(2)).join(' ')}${report.environment.git_commit ? `; commit ${report.environment.git_commit.slice(0, 10)}` : ''}.`,
  ].join('\n');
}

function phaseSection(phase: PhaseResult): string[] {
  const offered = phase.mode === 'open' ? `${phase.offered_rate_per_s}/s offered` : `${phase.concurrency} in flight`;
  const lag = phase.generator.lag;
  return [
    `## ${phase_titles[phase.name]}`,
    '',
    '| load | completed | completed/s | accept p50 / p95 / p99 / max (ms) | completion p50 / p95 / p99 / max (ms) | errors |',
    '|---|---|---|---|---|---|',
    `| ${offered} | ${phase.completed} in ${phase.window_s} s | ${phase.completed_per_s} | ${latencies(phase.accept)} | ${latencies(phase.completion)} | ${errorsOf(phase)} |`,
    '',
    '| process | CPU s | CPU ms / transfer | peak memory MiB |',
    '|---|---|---|---|',
    ...phase.processes.map(
      (part) => `| ${part.name} | ${part.cpu_s} | ${part.cpu_ms_per_transfer ?? '-'} | ${part.peak_memory_mib} |`,
    ),
    `| **total** | ${round2(phase.processes.reduce((sum, part) => sum + part.cpu_s, 0))} | ${phase.cpu_ms_per_transfer_total ?? '-'} | |`,
    '',
    phase.settled_before.quiet
      ? `Started on an idle system (waited ${phase.settled_before.waited_s} s for it).`
      : `**Started while the system was still busy** (no idle moment within ${phase.settled_before.waited_s} s): this phase also measured leftover work.`,
    '',
    lag
      ? `Load generator: send lag p50 ${lag.p50_ms} / p99 ${lag.p99_ms} / max ${lag.max_ms} ms, event-loop delay p99 ${phase.generator.event_loop_delay_p99_ms} ms: ${phase.generator.fell_behind ? '**it fell behind its schedule** (latencies still count from the schedule, but the offered rate was not delivered evenly)' : 'kept to its schedule'}.`
      : `Load generator: closed loop (latency counts from each send), event-loop delay p99 ${phase.generator.event_loop_delay_p99_ms} ms.`,
  ];
}

const scenario_titles = {
  burst: 'Burst (admission by queueing delay)',
  'blocked-shard': 'One shard blocked (admission per shard)',
};

function scenarioSection(scenario: ScenarioResult): string[] {
  return [
    `## ${scenario_titles[scenario.name]}`,
    '',
    '| transfers | sent | completed | refused (503 overloaded) | accept p50 / p95 / p99 / max (ms) | completion p50 / p95 / p99 / max (ms) | last final after (s) | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...scenario.groups.map(
      (group) =>
        `| ${group.name} | ${group.sent} | ${group.completed} | ${group.refused} | ${latencies(group.accept)} | ${latencies(group.completion)} | ${group.last_final_after_ms === null ? '-' : round2(group.last_final_after_ms / 1000)} | ${
          Object.entries(group.errors)
            .map(([kind, count]) => `${kind} ${count}`)
            .join(', ') || 'none'
        } |`,
    ),
    '',
    ...Object.entries(scenario.facts).map(([name, value]) => `- ${name}: ${value}`),
  ];
}

function ratioSection(ratios: BenchReport['ratios'], mode: BenchOptions['mode']): string[] {
  const row = (name: string, ratio: PhaseRatios | null) =>
    ratio
      ? [
          `| ${name} | ${show(ratio.completed_per_s)} | ${show(ratio.accept_p50)} | ${show(ratio.completion_p50)} | ${show(ratio.completion_p99)} | ${show(ratio.cpu_ms_per_transfer)} |`,
        ]
      : [];
  const rows = [
    ...row('transfers ÷ engine floor', ratios.transfer_to_floor),
    ...row('transfers ÷ raw PostgreSQL', ratios.transfer_to_pg),
  ];
  if (rows.length === 0) return [];
  return [
    '## Ratios',
    '',
    '| | completed/s | accept p50 | completion p50 | completion p99 | CPU ms / transfer |',
    '|---|---|---|---|---|---|',
    ...rows,
    ...(mode === 'open'
      ? [
          '',
          'In an open loop below saturation every phase completes what is offered, so completed/s is near 1 by construction: compare latency and CPU, or use `--mode closed` for capacity.',
        ]
      : []),
  ];
}

function checkSection(report: BenchReport): string[] {
  const { checks } = report;
  const lines = ['## Checks', ''];
  if (checks.ledger) lines.push(...ledgerLines('Shards', checks.ledger));
  if (checks.api) lines.push(...apiLines(checks.api));
  if (checks.raw_pg) lines.push(...ledgerLines('Raw PostgreSQL database', checks.raw_pg));
  lines.push(
    '',
    `**Money conserved: ${checks.conserved ? 'yes' : 'NO'}. Every transfer final: ${checks.all_final ? 'yes' : 'NO'}.**`,
  );
  return lines;
}

function ledgerLines(title: string, check: LedgerCheck): string[] {
  const money = (minor: string) => `${formatMinor(BigInt(minor), bench_currency)} ${bench_currency}`;
  return [
    `- ${title} (${check.databases}): customers ${money(check.customer_total_minor)} + clearing ${money(check.clearing_total_minor)}${check.fx_total_minor && check.fx_total_minor !== '0' ? ` + FX houses ${money(check.fx_total_minor)}` : ''} = deposited ${money(check.funded_total_minor)}` +
      ` (settlement ${money(check.settlement_total_minor)}); databases not summing to zero: ${check.unbalanced_databases.length === 0 ? 'none' : check.unbalanced_databases.join(', ')};` +
      ` balances that differ from their entries: ${check.drifted_accounts}; transfers recorded ${check.transfers_recorded}, not final ${check.transfers_not_final}.` +
      ` Conserved: ${check.conserved ? 'yes' : 'NO'}; all final: ${check.all_final ? 'yes' : 'NO'}.`,
    ...fxLines(check.fx_currency),
  ];
}

/** The FX currency's part of the ledger check, when the run converted anything. */
function fxLines(fx: LedgerCheck['fx_currency']): string[] {
  if (fx.converted_source_minor === '0') return [];
  const money = (minor: string) => `${formatMinor(BigInt(minor), fx.currency)} ${fx.currency}`;
  return [
    `  - ${fx.currency}: completed conversions took ${formatMinor(BigInt(fx.converted_source_minor), bench_currency)} ${bench_currency} and paid out ${money(fx.converted_target_minor)}; customers hold ${money(fx.customer_total_minor)}, FX houses ${money(fx.fx_total_minor)}; conversions off their recorded rate: ${fx.off_rate}.`,
  ];
}

function apiLines(check: ApiCheck): string[] {
  const money = (minor: string) => `${formatMinor(BigInt(minor), bench_currency)} ${bench_currency}`;
  return [
    `- Through the API: ${check.users_checked} benchmark users hold ${money(check.balance_total_minor)} of ${money(check.funded_total_minor)} deposited;` +
      ` ${check.unsettled_checked} requests of unknown outcome resolved, ${check.transfers_not_final} not final. Conserved: ${check.conserved ? 'yes' : 'NO'}; all final: ${check.all_final ? 'yes' : 'NO'}.`,
  ];
}

function latencies(summary: LatencySummary): string {
  if (summary.count === 0) return '-';
  return `${summary.p50_ms} / ${summary.p95_ms} / ${summary.p99_ms} / ${summary.max_ms}`;
}

function errorsOf(phase: PhaseResult): string {
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ');
  const measured = list(phase.errors) || 'none';
  const warmup = list(phase.warmup_errors);
  return warmup ? `${measured} (warmup: ${warmup})` : measured;
}

function show(value: number | null): string {
  return value === null ? '-' : `${value}×`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function payoutSection(stages: PayoutStages): string[] {
  const { seconds, reconciliation } = stages;
  return [
    `## Payouts: ${stages.payouts} from ${stages.payers} payers, after the phases on the same stack`,
    '',
    '| stage | seconds |',
    '|---|---|',
    `| accept (all answered 202) | ${seconds.accept_202} |`,
    `| accept (all HELD) | ${seconds.accept_held} |`,
    `| batch + build (cutoff until the last file is recorded) | ${seconds.batch_build} |`,
    `| submit (uploaded, all SUBMITTED) | ${seconds.submit} |`,
    `| of which the upload (recorded to uploaded) | ${seconds.submit_upload} |`,
    `| settle (all SETTLED; the bank's day is ${stages.bank_day_s} s) | ${seconds.settle} |`,
    `| reconcile (the day's settlement reconciliation) | ${seconds.reconcile} |`,
    '',
    `- Files: ${stages.files.map((file) => `#${file.file_sequence} with ${file.entries} entries`).join(', ')}`,
    `- Reconciliation: ${reconciliation.ok ? 'ok' : 'NOT ok'}, ${reconciliation.matched} matched, ${reconciliation.break_count} breaks`,
    `- 503s retried while accepting: ${stages.retried_503}`,
  ];
}
