import {
  ActivityFailure,
  condition,
  continueAsNew,
  defineSignal,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';
import {
  webhookRetryDelayMs,
  type WebhookDisabledReason,
  type WebhookEventRef,
  type WebhookRetrySchedule,
} from '../domain/webhook-deliveries';

/**
 * Webhook delivery (issue 20 §2, README "Webhooks"). One dispatcher per shard drains its outbox
 * and hands each endpoint the events it subscribes to, by signal-with-start, to that endpoint's
 * one delivery workflow. The delivery workflow sends its queue in order, one event at a time;
 * a failed attempt waits on a durable timer (exponential, up to the retry budget), and an
 * endpoint that fails for its whole budget is disabled. Both continue as new to bound history.
 */

/** Events for an endpoint, in order; `replay` ones are sent even when already delivered. */
export interface WebhookEventsSignal {
  refs: WebhookEventRef[];
  replay: boolean;
}
export const webhookEventsSignal = defineSignal<[WebhookEventsSignal]>('webhookEvents');

export interface WebhookDeliveryInput {
  endpointId: string;
  schedule: WebhookRetrySchedule;
  /** Events the queue may hold (WEBHOOK_BACKLOG_MAX); absent in runs started before it. */
  backlogMax?: number;
  /** Carried over a continue-as-new: the queue not yet delivered, and the last sequence sent per wallet. */
  queue?: (WebhookEventRef & { replay: boolean })[];
  delivered?: Record<string, string>;
  /** Carried over a continue-as-new made between two attempts at the queue's head. */
  retry?: WebhookRetryState;
}

/** Where the head's retries stand: the next attempt's number and time, and when the failing began. */
export interface WebhookRetryState {
  nextAttempt: number;
  nextAttemptAtMs: number;
  firstFailureMs: number;
}

/** An idle delivery workflow ends after this; the next event starts it again. */
const idle_ms = 10 * 60_000;
/** Events a run delivers before it continues as new. */
const deliveries_per_run_max = 500;
/** Wallets whose last delivered sequence a run remembers (for dropping the dispatcher's repeats); the oldest are forgotten. */
const delivered_wallets_max = 5_000;
/** The backlog bound of runs started without one (before WEBHOOK_BACKLOG_MAX). */
const backlog_max_default = 5_000;
/**
 * A run continues as new past this many history events even when the server does not suggest
 * it: a failing endpoint's run waits between attempts for up to WEBHOOK_RETRY_BUDGET while the
 * dispatcher's signals keep arriving, and Temporal terminates a run at 51,200 events, after
 * which the next signal would start an empty run: its queue lost, the endpoint never disabled.
 */
const history_events_max = 10_000;
/**
 * Runs from before it waited out a failing endpoint in one `sleep` whatever arrived meanwhile;
 * runs with it bound their backlog and continue as new between attempts (the patch).
 */
const bounded_runs_patch = 'webhook-deliveries-bounded';

const delivery_options = {
  // The request has its own timeout (WEBHOOK_TIMEOUT, at most 60 s); this only bounds a stuck attempt.
  startToCloseTimeout: 90_000,
  // A thrown error is ours (a shard down), not the consumer's: a few quick tries, then it counts
  // as a failed attempt of the schedule. The consumer's failures are results, never retried here.
  retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 3 },
};

/**
 * Deliveries run as local activities: one event after another, each a scheduled activity (a
 * round trip through the task queue and a workflow task), went at 2-5 a second under the chaos
 * run's load, behind a wallet's 15 events a second. A local activity runs in the worker that runs
 * the workflow, and its result continues the same workflow task. Runs started before it keep
 * their scheduled activities (the patch).
 */
const local_deliveries_patch = 'webhook-deliveries-local';
/**
 * Runs started before the patch schedule their deliveries; these heartbeat while the request is
 * out, so an attempt on a worker that died is retried after 10 s, not 90.
 */
const scheduled_delivery_options = { ...delivery_options, heartbeatTimeout: 10_000 };
/**
 * Disabling an endpoint retries until it lands: with a shard down when the budget runs out, a
 * few tries and a failed run would drop the queue with the endpoint still active, and its next
 * events would start an empty run: what was queued lost, nothing flagged.
 */
const disable_options = {
  startToCloseTimeout: 30_000,
  retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 2_147_483_647 },
};

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  const local = patched(local_deliveries_patch);
  const { deliverWebhook } = local
    ? proxyLocalActivities<WebhookActivities>(delivery_options)
    : proxyActivities<WebhookActivities>(scheduled_delivery_options);
  const { disableWebhookEndpoint } = local
    ? proxyLocalActivities<WebhookActivities>(disable_options)
    : proxyActivities<WebhookActivities>(disable_options);
  const disable = (reason: WebhookDisabledReason) => disableWebhookEndpoint({ endpointId: input.endpointId, reason });
  const bounded = patched(bounded_runs_patch);
  const backlogMax = input.backlogMax ?? backlog_max_default;
  const queue = [...(input.queue ?? [])];
  const delivered = new Map(Object.entries(input.delivered ?? {}));
  let overflowed = false;
  const isRepeat = (ref: WebhookEventRef) => {
    const last = delivered.get(ref.userId);
    const queued = queue.some((item) => !item.replay && item.userId === ref.userId && item.sequence === ref.sequence);
    return queued || (last !== undefined && BigInt(ref.sequence) <= BigInt(last));
  };
  setHandler(webhookEventsSignal, ({ refs, replay }) => {
    for (const ref of refs) {
      if (!replay && isRepeat(ref)) continue;
      // Past the bound nothing more is queued: the endpoint is disabled, and a replay resends.
      if (bounded && queue.length >= backlogMax) overflowed = true;
      else queue.push({ ...ref, replay });
    }
  });
  const waits = {
    bounded,
    interrupted: (): WaitInterruption | undefined =>
      overflowed ? 'backlog_exceeded' : historyFull(bounded) ? 'history_full' : undefined,
  };

  let retry = input.retry;
  for (let sent = 0; sent < deliveries_per_run_max && !historyFull(bounded); sent++) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, idle_ms))) return;
    if (overflowed) return disable('backlog_exceeded');
    const head = queue[0]!;
    const outcome = await deliverWithRetries(input, head, retry, waits, { deliverWebhook, disable });
    retry = undefined;
    if (typeof outcome === 'object') {
      retry = outcome;
      break;
    }
    // Disabled or deleted: what is queued is dropped (a replay sends it again once re-enabled).
    if (outcome !== 'delivered') return;
    queue.shift();
    if (!head.replay || BigInt(head.sequence) > BigInt(delivered.get(head.userId) ?? '0')) {
      delivered.delete(head.userId);
      delivered.set(head.userId, head.sequence);
      if (delivered.size > delivered_wallets_max) delivered.delete(delivered.keys().next().value!);
    }
  }
  if (overflowed) return disable('backlog_exceeded');
  await continueAsNew<typeof webhookDeliveryWorkflow>({
    ...input,
    queue,
    delivered: Object.fromEntries(delivered),
    retry,
  });
}

/** The server suggests continuing as new, or (bounded runs) the history reached history_events_max. */
function historyFull(bounded: boolean): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (bounded && info.historyLength >= history_events_max);
}

/** What ends a wait between attempts early: the backlog passed its bound, or the run must continue as new. */
type WaitInterruption = 'backlog_exceeded' | 'history_full';

/**
 * Attempts until delivered, or until the next wait would pass the budget counted from the first
 * failure. A bounded run's wait ends early when the backlog passes its bound (disabled) or the
 * history is full (the retry state is returned, to carry over a continue-as-new).
 */
async function deliverWithRetries(
  input: WebhookDeliveryInput,
  head: WebhookEventRef & { replay: boolean },
  resume: WebhookRetryState | undefined,
  waits: { bounded: boolean; interrupted: () => WaitInterruption | undefined },
  activities: Pick<WebhookActivities, 'deliverWebhook'> & { disable: (reason: WebhookDisabledReason) => Promise<void> },
): Promise<'delivered' | 'gone' | 'disabled' | WebhookRetryState> {
  const { userId, sequence, replay } = head;
  const firstFailureMs = resume?.firstFailureMs ?? Date.now();
  let waitMs = resume ? Math.max(0, resume.nextAttemptAtMs - Date.now()) : 0;
  for (let attempt = resume?.nextAttempt ?? 1; ; attempt++) {
    if (waitMs > 0 && !waits.bounded) await sleep(waitMs);
    else if (waitMs > 0) {
      const nextAttemptAtMs = Date.now() + waitMs;
      if (await condition(() => waits.interrupted() !== undefined, waitMs)) {
        if (waits.interrupted() === 'history_full') return { nextAttempt: attempt, nextAttemptAtMs, firstFailureMs };
        await activities.disable('backlog_exceeded');
        return 'disabled';
      }
    }
    const outcome = await activities
      .deliverWebhook({ endpointId: input.endpointId, ref: { userId, sequence }, attempt, replay })
      .then(
        (result) => result.outcome,
        (error: unknown) => {
          if (error instanceof ActivityFailure) return 'failed' as const;
          throw error;
        },
      );
    if (outcome !== 'failed') return outcome;
    waitMs = webhookRetryDelayMs(input.schedule, attempt);
    if (Date.now() - firstFailureMs + waitMs > input.schedule.budgetMs) {
      await activities.disable('retry_budget_exhausted');
      return 'disabled';
    }
  }
}

const drain_options = {
  startToCloseTimeout: 5 * 60_000,
  heartbeatTimeout: 20_000,
  // A shard down must not end the dispatcher: it retries until the shard is back.
  retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 2_147_483_647 },
};
/** Drain activities (about 30 s each) a dispatcher run makes before it continues as new. */
const drains_per_run = 100;

/** One shard's dispatcher: started once per shard by the webhook worker, and runs for good. */
export async function webhookDispatchWorkflow(input: { shard: number }): Promise<void> {
  const { drainWebhookOutbox } = proxyActivities<WebhookActivities>(drain_options);
  for (let drain = 0; drain < drains_per_run && !workflowInfo().continueAsNewSuggested; drain++)
    await drainWebhookOutbox({ shard: input.shard });
  await continueAsNew<typeof webhookDispatchWorkflow>(input);
}
