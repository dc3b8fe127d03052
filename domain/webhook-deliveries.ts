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

/** An event as a delivery workflow queues it: the wallet and its sequence (the envelope is read at delivery). */
export interface WebhookEventRef {
  userId: string;
  /** Decimal string (a Temporal payload). */
  sequence: string;
}
