import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Cleanup } from '../bench/cleanup';
import { batchesFinalOnce, runBatches, type BatchRun } from './batches';
import { ChaosClient, sleep } from './client';
import { ChaosSignals } from './signals';
import { injectFault, type InjectedFault } from './faults';
import { amounts } from './amounts';
import {
  answered_share_min,
  completedStays,
  conservation,
  finality,
  floors,
  idempotency,
  legShapes,
  noDrift,
  workloadHealthy,
  type InvariantResult,
} from './invariants';
import { openRecords, readLedger, type LedgerSnapshot } from './ledger';
import { chaos_shard_count, type ChaosOptions } from './options';
import { chaosUsers, initial_deposit_minor, planOperations, type PlannedOperation } from './plan';
import { replayHistories } from './replay';
import { countBy, markdownOf, writeReport, type ChaosReport } from './report';
import { describeFault, faultSchedule, type PlannedFault } from './schedule';
import { chaos_settings, startChaosStack, type ChaosStack } from './stack';
import { newObservations, ops_operator, runOperation, type Observations } from './workload';
import { callerIsolation, neighbour_user_id, runNoisyNeighbour, type NeighbourTally } from './noisy-neighbour';
import {
  prepareRails,
  rails_settle_within_ms,
  reconcileSettlement,
  runRails,
  settleRails,
  type RailsClock,
  type RailsRun,
} from './rails';
import { readRails } from './rails-ledger';
import {
  bankMatchesLedger,
  creditedOnce,
  payoutRequests,
  payoutsFinalOrWaiting,
  settlementReconciled,
  type SettlementAnswer,
} from './rails-invariants';
import { affordable } from './rails-plan';
import { eventsInvariants, eventsReport, readEvents, registerWebhookEndpoint } from './events';
import { ChaosWebhookReceiver } from './webhook-receiver';

/**
 * Invariant 6's minimum: the share of planned operations a client must have been told COMPLETED
 * (held transfers are not waited for, some debits are refused, some answers come after ?wait ends).
 */
const completed_share_min = 0.5;
/** Invariant 4's bound: every accepted transfer final this long after the last fault healed. */
const final_within_ms = 60_000;
const progress_every_ms = 10_000;
/**
 * Invariant 13's bounds: a payout before the bank has its file waits for a cutoff (every second
 * in the run); one submitted waits for its banking day (2 s). Both with room for a bank fault.
 */
const payout_bounds = { before_bank_ms: 30_000, submitted_ms: 30_000 };

interface Progress {
  started: number;
  done: number;
  finished: boolean;
  /** Faults started so far (the one being injected included). */
  faults: number;
}

/** The workload runs at most this many seconds of operations past a fault that has not started yet (an earlier one is still healing). */
const ahead_of_faults_s = 5;

/** The whole run; true when every invariant held. */
export async function runChaos(options: ChaosOptions): Promise<boolean> {
  const startedAt = new Date();
  const schedule = faultSchedule(
    options.seed,
    options.faults,
    options.transfers,
    options.wallets,
    chaos_shard_count,
    chaos_settings.activity_timeout_ms,
  );
  const described = schedule.map(describeFault);
  console.log(
    `chaos: seed ${options.seed}, ${options.transfers} operations, ${schedule.length} faults; schedule:\n  ${described.join('\n  ') || '(none)'}`,
  );
  const cleanup = new Cleanup();
  const interrupt = () => void cleanup.runAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'wallet-chaos-'));
  let passed = false;
  try {
    const stack = await startChaosStack(options.wallets, workDir, cleanup);
    console.log(
      `chaos: stack up (engine ${stack.engine.address}, wallets ${stack.wallets.map((wallet) => wallet.origin).join(' ')}, shards ${stack.shardUrls.join(' ')}); logs in ${workDir}`,
    );
    const receiver = new ChaosWebhookReceiver(options.seed);
    await receiver.start();
    cleanup.add('stop the webhook receiver', () => receiver.stop());
    const mix = await runMix(stack, options, schedule, { startedAtMs: startedAt.getTime(), receiver });
    const snapshot = await readLedger(stack.shardUrls);
    // Read again after the ledger, so both reads see the same settled rails.
    mix.rails.rails = await readRails(stack.shardUrls, stack.bank.database_url);
    console.log('chaos: reading the outboxes; waiting for the relay and the webhook endpoint to catch up');
    const events = await readEvents(stack.shardUrls, stack.natsUrl, {
      client: mix.client,
      receiver,
      endpointId: mix.webhookEndpointId,
    });
    const invariants = [
      ...(await checkInvariants(stack, options, snapshot, mix)),
      ...eventsInvariants(events, receiver),
    ];
    passed = invariants.every((result) => result.held);
    const report = reportOf({
      ...{ options, startedAt, described, stack, snapshot, mix, invariants, passed },
      events: eventsReport(events, receiver),
    });
    console.log(markdownOf(report));
    console.log(`chaos: written to ${await writeReport(report, options.out_dir)}.{md,json}`);
    return passed;
  } finally {
    await cleanup.runAll();
    if (passed) await rm(workDir, { recursive: true, force: true });
    else console.error(`chaos: process logs kept in ${workDir}`);
  }
}

/** What the workload, the faults and the noisy neighbour did, up to every record being final. */
interface MixOutcome {
  client: ChaosClient;
  plan: PlannedOperation[];
  seen: Observations;
  injected: InjectedFault[];
  neighbourTally: NeighbourTally;
  /** How long after the last fault healed (or the workload ended) every record was final; null if never. */
  settledAfterMs: number | null;
  /** Operations that threw: each is a broken run (invariant 10). */
  operationsBroke: string[];
  /** The payroll batches, one with a wallet killed while it ran (invariant 12). */
  batches: BatchRun[];
  /** The rails: payouts and credits through the bank, in the mix, while it was faulted too (invariants 13 to 16). */
  rails: RailsRun;
  /** Settlement reconciliation of every day the run touched, once the rails settled (invariant 17). */
  settlement: SettlementAnswer[];
  /** The run's webhook endpoint, registered before the first event (invariant 21). */
  webhookEndpointId: string;
}

/**
 * The workload, the fault schedule, the rails (payouts, credits and bank faults) and the noisy
 * neighbour at once; then the payroll batches while the rails settle; then the wait for every
 * record to be final, and the settlement reconciliation of the days the run touched.
 */
async function runMix(
  stack: ChaosStack,
  options: ChaosOptions,
  schedule: PlannedFault[],
  { startedAtMs, receiver }: { startedAtMs: number; receiver: ChaosWebhookReceiver },
): Promise<MixOutcome> {
  const client = new ChaosClient(
    stack.wallets.map((wallet) => wallet.origin),
    stack.authSecret,
  );
  const webhookEndpointId = await registerWebhookEndpoint(client, receiver);
  // Some approvals, rejections and reversals go as signals with action tokens, as the Web UI sends them.
  client.signals = new ChaosSignals(stack.engine.address);
  const byShard = chaosUsers(options.seed, options.users, chaos_shard_count);
  const [, railsReady] = await Promise.all([
    setUp(client, [...byShard.flat(), neighbour_user_id, feeder_user_id]),
    prepareRails(client, {
      seed: options.seed,
      payouts: options.payouts,
      credits: options.credits,
      faults_per_kind: options.rails_faults,
      shard_count: chaos_shard_count,
      // Spread over the workload's planned span, so faults of every kind meet payouts and credits.
      span_ms: (options.transfers * 1000) / options.rate_per_s,
    }),
  ]);
  const plan = planOperations(options.seed, options.transfers, byShard, chaos_settings.review_threshold_minor);
  const seen = newObservations();
  const progress: Progress = { started: 0, done: 0, finished: false, faults: 0 };
  const operationsBroke: string[] = [];
  const reporter = setInterval(
    () =>
      console.log(
        `chaos: ${progress.started} started, ${progress.done} done, ${progress.faults}/${schedule.length} faults`,
      ),
    progress_every_ms,
  );
  // The rails' clock is the workload's: an offset is the operation the workload starts then at
  // its planned pace, so the rails pause with it while a fault heals, and never outrun it.
  const railsClock: RailsClock = async (offset_ms) => {
    const operation = Math.floor((offset_ms * options.rate_per_s) / 1000);
    while (progress.started < operation && !progress.finished) await sleep(50);
  };
  const faults = runFaults(stack, schedule, progress, client);
  const workload = runWorkload(client, plan, { seen, operationsBroke }, options, progress, schedule);
  const neighbour = runNoisyNeighbour(client, () => progress.finished);
  const railsMix = runRails(stack, client, railsReady, railsClock);
  const [injected, , neighbourTally, railsDone] = await Promise.all([faults, workload, neighbour, railsMix]);
  clearInterval(reporter);
  await client.signals.close();
  const after = await afterTheMix(stack, client, options, { users: byShard.flat(), injected, railsDone, startedAtMs });
  return {
    client,
    plan,
    seen,
    injected: [...injected, ...after.rails.injected],
    neighbourTally,
    operationsBroke,
    webhookEndpointId,
    ...after,
  };
}

/**
 * After the fault schedule: the payroll batches (so the kill during the first never meets a
 * scheduled fault) while the rails settle (the kill meets payouts still on their way), the wait
 * for every record to be final, and settlement reconciliation of the days the run touched.
 */
async function afterTheMix(
  stack: ChaosStack,
  client: ChaosClient,
  options: ChaosOptions,
  mix: {
    users: string[];
    injected: InjectedFault[];
    railsDone: Omit<RailsRun, 'settled_after_ms' | 'rails'>;
    startedAtMs: number;
  },
): Promise<Pick<MixOutcome, 'batches' | 'rails' | 'settledAfterMs' | 'settlement'>> {
  console.log('chaos: payroll batches, a wallet killed during the first; the rails settling meanwhile');
  const faultsHealedMs = [...mix.injected, ...mix.railsDone.injected].map((fault) => fault.healed_at_ms);
  const [batches, railsSettled] = await Promise.all([
    runBatches(stack, client, mix.users, options.seed),
    settleRails(stack, Math.max(Date.now(), ...faultsHealedMs)),
  ]);
  const rails: RailsRun = { ...mix.railsDone, ...railsSettled };
  console.log(
    `chaos: rails settled; nothing moved ${rails.settled_after_ms === null ? 'NEVER' : `${(rails.settled_after_ms / 1000).toFixed(1)} s`} after the last fault healed`,
  );
  const workloadEndMs = Date.now();
  await Promise.all(stack.wallets.map((wallet) => wallet.waitReady()));
  // Transfers accepted after the last fault get the same bound from the end of the workload.
  const settledAfterMs = await settle(
    stack.shardUrls,
    Math.max(workloadEndMs, ...mix.injected.map((fault) => fault.healed_at_ms)),
  );
  console.log(
    `chaos: workload done; every record final ${settledAfterMs === null ? 'NEVER' : `${(settledAfterMs / 1000).toFixed(1)} s`} after the last fault healed and the workload ended; reconciling settlement`,
  );
  const settlement = await reconcileSettlement(client, mix.startedAtMs);
  return { batches, rails, settledAfterMs, settlement };
}

async function checkInvariants(
  stack: ChaosStack,
  options: ChaosOptions,
  snapshot: LedgerSnapshot,
  { client, plan, seen, neighbourTally, settledAfterMs, operationsBroke, batches, rails, settlement }: MixOutcome,
): Promise<InvariantResult[]> {
  const shapes = legShapes(snapshot, new Set(rails.rails.payouts.keys()));
  const least = (kind?: PlannedOperation['kind']) =>
    Math.ceil(answered_share_min * plan.filter((operation) => kind === undefined || operation.kind === kind).length);
  const askedByKey = new Map(plan.map((operation) => [operation.key, operation.amount]));
  return [
    conservation(snapshot),
    floors(snapshot),
    shapes,
    finality(snapshot, seen, settledAfterMs, final_within_ms, least()),
    idempotency(seen, shapes.broken_ids, { reuses: least('reused_key'), triples: least('concurrent_duplicates') }),
    completedStays(snapshot, seen, Math.ceil(completed_share_min * plan.length)),
    await replayHistories(stack.engine.address, options.seed, options.replay_max, new Set(snapshot.transfers.keys())),
    noDrift(snapshot),
    callerIsolation(neighbourTally, client.retried),
    workloadHealthy({
      unplanned_exits: [stack.bank.process, ...stack.wallets].flatMap((part) => part.unplanned_exits),
      gave_up: client.gave_up,
      unexpected: seen.unexpected,
      operations_broke: operationsBroke,
    }),
    amounts(snapshot, seen, askedByKey, least(), rails.rails),
    batchesFinalOnce(snapshot, batches),
    ...railsInvariants(snapshot, rails),
    settlementReconciled(settlement, rails.rails.bank_line_count),
  ];
}

/** Invariants 13 to 16, on the rails' last read and the ledger read after it. */
function railsInvariants(snapshot: LedgerSnapshot, run: RailsRun): InvariantResult[] {
  const share = (count: number) => Math.ceil(answered_share_min * count);
  const reuses = run.plan.payouts.filter((payout) => payout.kind === 'reused_key').length;
  const finalOrWaiting = payoutsFinalOrWaiting(
    run.rails,
    run.seen.accepted,
    payout_bounds,
    share(run.plan.payouts.length),
  );
  if (run.settled_after_ms === null)
    finalOrWaiting.examples.unshift(`the rails still moved ${rails_settle_within_ms / 1000} s after the last fault`);
  return [
    { ...finalOrWaiting, held: finalOrWaiting.held && run.settled_after_ms !== null },
    bankMatchesLedger(run.rails, snapshot.legs),
    creditedOnce(run.rails, snapshot.legs, run.sent, share(run.plan.credits.length)),
    payoutRequests(
      run.seen,
      run.rails,
      { count: run.plan.race.count, affordable: affordable(run.plan.race) },
      share(reuses),
    ),
  ];
}

function reportOf(run: {
  options: ChaosOptions;
  startedAt: Date;
  described: string[];
  stack: ChaosStack;
  snapshot: LedgerSnapshot;
  mix: MixOutcome;
  invariants: InvariantResult[];
  passed: boolean;
  events: ChaosReport['events'];
}): ChaosReport {
  const { options, startedAt, snapshot, mix } = run;
  return {
    seed: options.seed,
    command: `npm run chaos -- --seed ${options.seed} --transfers ${options.transfers} --faults ${options.faults} --rate ${options.rate_per_s} --concurrency ${options.concurrency} --users ${options.users} --wallets ${options.wallets} --payouts ${options.payouts} --credits ${options.credits} --rails-faults ${options.rails_faults}`,
    started_at: startedAt.toISOString(),
    duration_s: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    options,
    schedule: run.described,
    // A fault counts once it is confirmed: an armed crash that fired, a terminate that cut connections.
    faults_by_kind: countBy(
      mix.injected.filter((fault) => fault.happened),
      (fault) => fault.kind,
    ),
    faults_not_happened: mix.injected
      .filter((fault) => !fault.happened)
      .map((fault) => `#${fault.index} ${fault.kind}: ${fault.detail}`),
    faults: mix.injected,
    operations_by_kind: countBy(mix.plan, (operation) => operation.kind),
    transfers_by_final_state: countBy(
      [...snapshot.transfers.values()],
      (record) =>
        `${record.kind}${record.converts ? ' (converting)' : ''} ${record.status}${record.failure_reason ? ` (${record.failure_reason})` : ''}`,
    ),
    client: {
      retried: mix.client.retried,
      gave_up: mix.client.gave_up,
      unexpected: mix.seen.unexpected,
      reversals: mix.seen.reversals,
      decisions: mix.seen.decisions,
    },
    unplanned_exits: [run.stack.bank.process, ...run.stack.wallets].flatMap((part) => part.unplanned_exits),
    rails: {
      bank_faults: mix.rails.injected.map((fault) => `${fault.kind}: ${fault.detail}`),
      payouts_by_kind: countBy(mix.rails.plan.payouts, (payout) => payout.kind),
      payouts_by_status: countBy([...mix.rails.rails.payouts.values()], (payout) =>
        [payout.status, payout.failure_reason ?? payout.return_code].filter(Boolean).join(' '),
      ),
      credits_by_target: countBy(mix.rails.sent, (credit) => credit.to),
      settled_after_s: mix.rails.settled_after_ms === null ? null : mix.rails.settled_after_ms / 1000,
    },
    events: run.events,
    invariants: run.invariants,
    passed: run.passed,
  };
}

/** Users, their first money, and the USD/EUR rate conversions use. */
async function setUp(client: ChaosClient, users: string[]): Promise<void> {
  const ops = { sub: ops_operator, role: 'ops' as const };
  const rate = await client.retrying('PUT', '/v1/ops/fx/rates/USD/EUR', ops, { rate: '0.9215', reason: 'chaos run' });
  if (rate.status !== 200)
    throw new Error(`setting the USD/EUR rate answered ${rate.status} ${JSON.stringify(rate.body)}`);
  await Promise.all(
    users.map(async (userId) => {
      const created = await client.retrying('POST', '/v1/wallet/users', ops, { user_id: userId });
      if (created.status !== 201)
        throw new Error(`creating ${userId} answered ${created.status} ${JSON.stringify(created.body)}`);
      const funded = await client.retrying('POST', `/v1/wallet/${userId}/deposits?wait=10`, ops, {
        amount: initial_deposit_minor,
        currency: 'USD',
        idempotency_key: `fund-${userId}`,
      });
      if (funded.status !== 200 || funded.body.status !== 'COMPLETED')
        throw new Error(`funding ${userId} answered ${funded.status} ${JSON.stringify(funded.body)}`);
    }),
  );
}

/** Starts operations at the planned pace, at most `concurrency` at once; resolves when every one ended. */
async function runWorkload(
  client: ChaosClient,
  plan: PlannedOperation[],
  { seen, operationsBroke }: { seen: Observations; operationsBroke: string[] },
  options: ChaosOptions,
  progress: Progress,
  schedule: PlannedFault[],
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const ahead = Math.max(5, Math.ceil(options.rate_per_s * ahead_of_faults_s));
  let startMs = Date.now();
  for (const operation of plan) {
    await sleep(Math.max(0, startMs + (operation.index * 1000) / options.rate_per_s - Date.now()));
    // Faults take seconds to heal; the load waits for a late one, so every fault meets load.
    const pausedAtMs = Date.now();
    while (schedule.slice(progress.faults).some((fault) => fault.after_operations + ahead < operation.index))
      await sleep(50);
    startMs += Date.now() - pausedAtMs;
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    progress.started++;
    const running: Promise<void> = runOperation(client, operation, seen)
      .catch((error: unknown) => {
        const note = `operation ${operation.index} (${operation.kind}) broke: ${(error as Error).message}`;
        operationsBroke.push(note);
        console.error(`chaos: ${note}`);
      })
      .finally(() => {
        progress.done++;
        inFlight.delete(running);
      });
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  progress.finished = true;
}

/** Injects the faults one after another, each once the workload started its planned operation. */
async function runFaults(
  stack: ChaosStack,
  schedule: PlannedFault[],
  progress: Progress,
  client: ChaosClient,
): Promise<InjectedFault[]> {
  const injected: InjectedFault[] = [];
  let stopFeeding: (() => Promise<void>) | undefined;
  const arming = (armed: boolean) => {
    if (armed) stopFeeding = feedArmedWallet(client);
    else void stopFeeding?.();
  };
  for (const fault of schedule) {
    while (progress.started < fault.after_operations && !progress.finished) await sleep(50);
    progress.faults++;
    const done = await injectFault(stack, fault, arming);
    injected.push(done);
    console.log(
      `chaos: fault ${describeFault(fault)} -> ${done.detail} (${((done.healed_at_ms - done.started_at_ms) / 1000).toFixed(1)} s${progress.finished ? ', after the workload ended' : ''})`,
    );
  }
  return injected;
}

/** A user of its own that feeds legs to a wallet waiting armed for its crash. */
const feeder_user_id = 'chaos_fault_feeder';
const feed_every_ms = 500;

/**
 * While a wallet waits armed, a withdrawal of one minor unit every half second gives it a debit
 * to commit: the workload may be paused for a later fault's lead, and without a leg the armed
 * crash never fires (it would then not count). Requests go round-robin, so the armed wallet gets
 * every other one and starts its workflow eagerly. Returns the function that stops the feed.
 */
function feedArmedWallet(client: ChaosClient): () => Promise<void> {
  let feeding = true;
  const feeder = { sub: feeder_user_id, role: 'customer' as const };
  const loop = (async () => {
    for (let index = 0; feeding; index++) {
      await client.once('POST', `/v1/wallet/${feeder_user_id}/withdrawals`, feeder, {
        amount: 1,
        currency: 'USD',
        idempotency_key: `feed-${Date.now()}-${index}`,
      });
      await sleep(feed_every_ms);
    }
  })();
  return async () => {
    feeding = false;
    await loop;
  };
}

/** Polls until no record is open; returns how long after `sinceMs` that was, or null if not within the bound and a margin. */
async function settle(shardUrls: readonly string[], sinceMs: number): Promise<number | null> {
  const deadlineMs = sinceMs + final_within_ms + 30_000;
  for (;;) {
    if ((await openRecords(shardUrls)) === 0) return Math.max(0, Date.now() - sinceMs);
    if (Date.now() > deadlineMs) return null;
    await sleep(500);
  }
}
