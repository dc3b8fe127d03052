import type { Config } from '../config';
import type { payinMetrics } from '../metrics/payin-metrics';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail } from '../rails/ach/ach-rail';
import { BankHttpLink } from '../rails/bank-link';

/**
 * What the pay-in poller needs, from the configuration: the ACH rail (moov-io/ach's server at
 * ACH_SERVER_URL, we as originator at BANK_ROUTING) and the bank's file exchange at BANK_URL.
 * Undefined when PAYIN_POLL_EVERY is off.
 */
export function payinPartsOf(settings: Config, events: ReturnType<typeof payinMetrics>) {
  if (settings.PAYIN_POLL_EVERY === null) return undefined;
  const rail = new AchRail(new AchFiles(settings.achServerUrl), {
    odfiRouting: settings.BANK_ROUTING,
    odfiName: settings.BANK_NAME,
    companyName: settings.ACH_COMPANY_NAME,
    companyIdentification: settings.ACH_COMPANY_ID,
    entryDescription: 'PAYOUT',
  });
  return {
    everyMs: settings.PAYIN_POLL_EVERY,
    worker: { rail, bank: new BankHttpLink(settings.BANK_URL, settings.BANK_TOKEN), events },
  };
}
