/**
 * What webhook delivery workflows share with the rest (no Node modules: workflow code imports it).
 */

/** The delivery retry schedule: exponential from first to max, until the budget since the first failure is spent. */
export interface WebhookRetrySchedule {
  firstMs: number;
  maxMs: number;
  budgetMs: number;
}

/** The wait before retry number `retry` (1: after the first failure), doubling up to maxMs. */
export function webhookRetryDelayMs(schedule: WebhookRetrySchedule, retry: number): number {
  return Math.min(schedule.maxMs, schedule.firstMs * 2 ** Math.min(retry - 1, 40));
}

/**
 * Why an endpoint was disabled (GET .../endpoints/{id} `disabled_reason`): it failed for its whole
 * WEBHOOK_RETRY_BUDGET, or more events waited for it than WEBHOOK_BACKLOG_MAX.
 */
export const webhook_disabled_reasons = ['retry_budget_exhausted', 'backlog_exceeded'] as const;
export type WebhookDisabledReason = (typeof webhook_disabled_reasons)[number];

/** An event as a delivery workflow queues it: the wallet and its sequence (the envelope is read at delivery). */
export interface WebhookEventRef {
  userId: string;
  /** Decimal string (a Temporal payload). */
  sequence: string;
}
