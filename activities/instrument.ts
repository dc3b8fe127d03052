import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Counter, Histogram } from 'prom-client';

type Outcome = 'succeeded' | 'refused' | 'failed';

/** The two series the wrappers write; the process's metrics (metrics/wallet-metrics.ts) are handed in. */
export interface ActivityMetrics {
  activitySeconds: Pick<Histogram<'activity' | 'outcome'>, 'startTimer'>;
  activityRetries: Pick<Counter<'activity'>, 'inc'>;
}

/**
 * The same activities, each attempt timed in `wallet_activity_duration_seconds{activity,outcome}`
 * and every attempt after the first counted in `wallet_activity_retries_total{activity}`. Each
 * wrapper returns what the activity returned and rethrows the very error it threw, so the
 * workflow sees no difference (the legs are local activities: their failures reach the
 * workflow as they are). Labels are the activity names, a fixed set.
 */
export function instrumentActivities<T extends object>(activities: T, metrics: ActivityMetrics): T {
  const instrumented: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    if (typeof activity !== 'function') {
      instrumented[name] = activity;
      continue;
    }
    instrumented[name] = async (...args: unknown[]) => {
      if (attemptOf() > 1) metrics.activityRetries.inc({ activity: name });
      const stop = metrics.activitySeconds.startTimer({ activity: name });
      let outcome: Outcome = 'failed';
      try {
        const result: unknown = await (activity as (...input: unknown[]) => unknown).apply(activities, args);
        outcome = 'succeeded';
        return result;
      } catch (error) {
        outcome = isRefusal(error) ? 'refused' : 'failed';
        throw error;
      } finally {
        stop({ outcome });
      }
    };
  }
  return instrumented as T;
}

/** Business refusals (insufficient funds, a frozen user, ...) end an activity without a retry. */
function isRefusal(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.nonRetryable === true;
}

/** Outside an activity (a direct call in a test) there is no attempt to count. */
function attemptOf(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
