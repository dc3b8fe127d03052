import { achOriginatorOf, type Config } from '../config';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail } from '../rails/ach/ach-rail';
import { HttpBankTransport } from '../rails/bank-transport';

/**
 * The one rail and the one bank link of a worker, from the configuration: the ACH rail
 * (moov-io/ach's server at ACH_SERVER_URL; we as originator at BANK_ROUTING) and our bank's file
 * exchange at BANK_URL. Payouts, their returns and pay-ins all go through these two.
 */
export function railPartsOf(settings: Config) {
  return {
    rail: new AchRail(new AchFiles(settings.achServerUrl), achOriginatorOf(settings)),
    bank: new HttpBankTransport(settings.BANK_URL, settings.BANK_TOKEN),
  };
}
