import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InvariantResult } from './invariants';
import type { InjectedFault } from './faults';
import type { ChaosOptions } from './options';
import { give_up_after_ms } from './client';

export interface ChaosReport {
  seed: number;
  command: string;
  started_at: string;
  duration_s: number;
  machine: string;
  options: ChaosOptions;
  schedule: string[];
  /** Faults that happened (confirmed), by kind. */
  faults_by_kind: Record<string, number>;
  /** Scheduled faults that did not happen (an armed crash that never fired, a terminate that cut nothing). */
  faults_not_happened: string[];
  faults: InjectedFault[];
  operations_by_kind: Record<string, number>;
  transfers_by_final_state: Record<string, number>;
  client: {
    retried: Record<string, number>;
    gave_up: number;
    unexpected: Record<string, number>;
    reversals: Record<string, number>;
    decisions: Record<string, number>;
  };
  unplanned_exits: string[];
  /** The rails in the mix (issue 19): what they sent, how it ended, and the bank faults they met. */
  rails: {
    bank_faults: string[];
    payouts_by_kind: Record<string, number>;
    payouts_by_status: Record<string, number>;
    credits_by_target: Record<string, number>;
    /** Seconds after the last fault (of any kind) healed until nothing on the rails moved; null if never. */
    settled_after_s: number | null;
  };
  /** The events (issue 20): the outboxes, the JetStream stream and the run's webhook endpoint (invariants 18 to 21). */
  events: {
    outbox_events: number;
    stream_messages: number;
    /** Verified deliveries the endpoint got, and how many of them it answered 500 (the wallet retried those). */
    webhook_arrivals: number;
    webhook_answered_500: number;
    /** The longest time without a delivery once they began (a stalled delivery shows here). */
    webhook_longest_pause_s: number;
    endpoint_status: string;
    /** How long the end waited for the relay's lag to be zero and the endpoint to have every event. */
    waited_s: number;
  };
  invariants: InvariantResult[];
  passed: boolean;
}

export function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

const table = (head: [string, string], rows: Record<string, number | string>) =>
  [
    `| ${head[0]} | ${head[1]} |`,
    '|---|---:|',
    ...Object.entries(rows).map(([key, value]) => `| ${key} | ${value} |`),
  ].join('\n');

export function markdownOf(report: ChaosReport): string {
  const invariants = [
    '| # | invariant | held | figures |',
    '|---|---|---|---|',
    ...report.invariants.map(
      (result) =>
        `| ${result.id} | ${result.name} | ${result.held ? 'yes' : '**NO**'} | ${result.figures.replace(/\|/g, '/')} |`,
    ),
  ].join('\n');
  const broken = report.invariants.flatMap((result) => result.examples.map((example) => `- ${result.id}: ${example}`));
  return [
    `# Chaos run, seed ${report.seed}: ${report.passed ? 'every invariant held' : 'INVARIANTS BROKEN'}`,
    '',
    `\`${report.command}\` — ${report.started_at}, ${report.duration_s} s, ${report.machine}`,
    '',
    '## Faults by kind',
    '',
    table(['fault', 'happened'], report.faults_by_kind),
    '',
    `Scheduled but did not happen: ${report.faults_not_happened.length === 0 ? 'none' : report.faults_not_happened.join('; ')}`,
    '',
    '## Operations by kind',
    '',
    table(['operation', 'planned'], report.operations_by_kind),
    '',
    '## Transfers by final state',
    '',
    table(['kind status (reason)', 'records'], report.transfers_by_final_state),
    '',
    '## Payouts and pay-ins',
    '',
    table(['payout (planned)', 'count'], report.rails.payouts_by_kind),
    '',
    table(['payout status (reason or return code)', 'payouts'], report.rails.payouts_by_status),
    '',
    table(['credit sent to', 'credits'], report.rails.credits_by_target),
    '',
    `Bank faults: ${report.rails.bank_faults.join('; ') || 'none'}. Nothing on the rails moved ${report.rails.settled_after_s === null ? 'NEVER' : `${report.rails.settled_after_s.toFixed(1)} s`} after the last fault healed.`,
    '',
    ...eventsSection(report.events),
    '## Invariants',
    '',
    invariants,
    ...(broken.length > 0 ? ['', 'Examples of what broke:', '', ...broken] : []),
    '',
    '## What clients saw',
    '',
    table(['retried attempt (cause)', 'count'], report.client.retried),
    '',
    `Requests given up after ${give_up_after_ms / 1000} s of retries: ${report.client.gave_up}. Unexpected answers: ${JSON.stringify(report.client.unexpected)}. Reversals: ${JSON.stringify(report.client.reversals)}. Review decisions: ${JSON.stringify(report.client.decisions)}.`,
    '',
    `Wallet or bank exits nobody asked for (restarted by the run): ${report.unplanned_exits.length === 0 ? 'none' : report.unplanned_exits.join('; ')}`,
    '',
    '## Fault schedule',
    '',
    '```',
    ...report.schedule,
    '```',
    '',
  ].join('\n');
}

function eventsSection(events: ChaosReport['events']): string[] {
  return [
    '## Events',
    '',
    table(['events (outboxes, stream, webhook endpoint)', 'count'], {
      'events in the outboxes': events.outbox_events,
      'messages on the stream': events.stream_messages,
      'webhook deliveries received': events.webhook_arrivals,
      'of them answered 500 (retried)': events.webhook_answered_500,
      'longest pause between deliveries (s)': events.webhook_longest_pause_s,
    }),
    '',
    `Endpoint at the end: ${events.endpoint_status}; the end waited ${events.waited_s} s for the relay and the endpoint to catch up.`,
    '',
  ];
}

export async function writeReport(report: ChaosReport, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const stamp = report.started_at.replace(/[:.]/g, '-');
  const base = path.join(outDir, `${stamp}-seed${report.seed}`);
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.md`, markdownOf(report));
  return base;
}
