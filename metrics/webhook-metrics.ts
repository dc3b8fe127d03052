import { Counter, type Registry } from 'prom-client';
import type { WebhookEvents } from '../activities/webhooks';

const made = new WeakMap<Registry, WebhookEvents>();

/**
 * Webhooks' counts: `wallet_webhook_attempts_total{outcome}` (delivered, failed),
 * `wallet_webhook_endpoints_disabled_total` (an endpoint that failed for its whole retry budget
 * or passed its backlog bound, also logged at error level and shown as `status: disabled` by GET /v1/webhooks/endpoints),
 * `wallet_webhook_drain_failures_total{shard}` (a shard's outbox drain failed; its dispatcher
 * retries without end, so this is what an alert watches), and
 * `wallet_webhook_disable_failures_total` (disabling an endpoint failed; retried without end too).
 */
export function webhookMetrics(registry: Registry): WebhookEvents {
  const known = made.get(registry);
  if (known) return known;
  const attempts = new Counter({
    name: 'wallet_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered: a 2xx answer; failed: anything else, retried on the schedule)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const disabled = new Counter({
    name: 'wallet_webhook_endpoints_disabled_total',
    help: 'Webhook endpoints disabled because they failed for their whole retry budget (WEBHOOK_RETRY_BUDGET) or passed their backlog bound (WEBHOOK_BACKLOG_MAX)',
    registers: [registry],
  });
  const drainFailures = new Counter({
    name: 'wallet_webhook_drain_failures_total',
    help: "Failed attempts of a shard's webhook outbox drain (retried without end: a rising count is a shard the dispatcher cannot read)",
    labelNames: ['shard'],
    registers: [registry],
  });
  const disableFailures = new Counter({
    name: 'wallet_webhook_disable_failures_total',
    help: 'Failed attempts to disable a webhook endpoint (retried without end: a rising count is an endpoint left active with its queue held)',
    registers: [registry],
  });
  const events: WebhookEvents = {
    attempt: (outcome) => attempts.inc({ outcome }),
    disabled: () => disabled.inc(),
    drainFailed: (shard) => drainFailures.inc({ shard: String(shard) }),
    disableFailed: () => disableFailures.inc(),
  };
  made.set(registry, events);
  return events;
}
