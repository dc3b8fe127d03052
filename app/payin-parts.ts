import type { Config } from '../config';
import type { payinMetrics } from '../metrics/payin-metrics';
import type { railPartsOf } from './rail-parts';

/**
 * What the pay-in poller needs: the worker's rail and bank link (app/rail-parts.ts) and its
 * metrics. Undefined when PAYIN_POLL_EVERY is off.
 */
export function payinPartsOf(
  settings: Config,
  railParts: ReturnType<typeof railPartsOf>,
  events: ReturnType<typeof payinMetrics>,
) {
  if (settings.PAYIN_POLL_EVERY === null) return undefined;
  return { everyMs: settings.PAYIN_POLL_EVERY, worker: { ...railParts, events } };
}
