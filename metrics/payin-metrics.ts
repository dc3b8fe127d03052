import { Counter, type Registry } from 'prom-client';
import type { PayinEvents } from '../activities/payins';

/**
 * The pay-in poller's counts: `wallet_payin_files_total{outcome}` (processed, refused: a file the
 * rail refused, also logged at error level and listed by GET /v1/ops/payins/files) and
 * `wallet_payin_entries_total{outcome}` (credited, returned, duplicate, conflict), and
 * `wallet_payin_return_files_refused_total`.
 */
export function payinMetrics(registry: Registry): PayinEvents {
  const files = new Counter({
    name: 'wallet_payin_files_total',
    help: 'Bank files the pay-in poller finished, by outcome (processed; refused: the rail refused the file, nothing moved)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const entries = new Counter({
    name: 'wallet_payin_entries_total',
    help: 'Incoming credit entries the pay-in poller decided, by outcome (credited, returned, duplicate, conflict: a trace number seen with another account or amount)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const returnFilesRefused = new Counter({
    name: 'wallet_payin_return_files_refused_total',
    help: 'Return files of pay-ins the bank refused (set aside in payin_return_files with its reason, logged at error level): a person must look',
    registers: [registry],
  });
  return {
    returnFileRefused: () => returnFilesRefused.inc(),
    file: (outcome) => files.inc({ outcome }),
    entry: (outcome) => entries.inc({ outcome }),
  };
}
