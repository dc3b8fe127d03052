/**
 * External bank accounts a wallet pays out to. Pure. A rail is data: its name and its own fields
 * (`RailDetails`), so a second rail (SEPA: IBAN and BIC) is one more member of that union, one
 * more validator and one more check in the bank_accounts table; the payout workflow only ever
 * carries a bank_account_id and never sees any of it.
 */
import { createHash } from 'node:crypto';

export const bank_rails = ['ach'] as const;
export type BankRail = (typeof bank_rails)[number];

/** The one currency each rail moves. */
export const rail_currency: Record<BankRail, string> = { ach: 'USD' };

export const ach_account_types = ['checking', 'savings'] as const;
type AchAccountType = (typeof ach_account_types)[number];

/** An ACH account as the rail needs it: the whole account number is here, and only here. */
export interface AchDetails {
  routingNumber: string;
  accountNumber: string;
  accountType: AchAccountType;
}

export type RailDetails = { rail: 'ach'; ach: AchDetails };

/** What may be shown of a rail's fields: the account number as its last four digits only. */
export type MaskedRailDetails = { rail: 'ach'; ach: Omit<AchDetails, 'accountNumber'> & { last4: string } };

/** NACHA allows DFI account numbers of up to 17 characters; fewer than 4 digits is no real account. */
const account_number_pattern = /^[0-9]{4,17}$/;
export const holder_name_length_max = 100;
/** Live bank accounts per user: registering more is refused until one is removed. */
export const bank_accounts_per_user_max = 20;

/**
 * An ABA routing transit number: nine digits whose weighted sum (3, 7, 1 repeated) is a multiple
 * of 10. All zeros passes the sum and names no bank: refused.
 */
export function isAbaRoutingNumber(text: string): boolean {
  if (!/^[0-9]{9}$/.test(text) || text === '000000000') return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  const sum = [...text].reduce((total, digit, index) => total + Number(digit) * weights[index]!, 0);
  return sum % 10 === 0;
}

export type BankAccountRefusal = 'invalid_routing_number' | 'invalid_account_number';

/** Checks an ACH account's fields; the answer never repeats the account number. */
export function checkAchDetails(
  details: AchDetails,
): { ok: true } | { ok: false; refusal: BankAccountRefusal; why: string } {
  if (!isAbaRoutingNumber(details.routingNumber))
    return {
      ok: false,
      refusal: 'invalid_routing_number',
      why: 'routing_number must be a 9-digit ABA routing number whose check digit holds',
    };
  if (!account_number_pattern.test(details.accountNumber))
    return { ok: false, refusal: 'invalid_account_number', why: 'account_number must be 4 to 17 digits' };
  return { ok: true };
}

export function maskedDetails(details: RailDetails): MaskedRailDetails {
  const { accountNumber, ...shown } = details.ach;
  return { rail: 'ach', ach: { ...shown, last4: accountNumber.slice(-4) } };
}

/**
 * The account's identity on its rail, hashed: the duplicate check compares these, so the number
 * itself never sits in an index key (nor, then, in a unique-violation message).
 */
export function fingerprintOf(details: RailDetails): string {
  const identity = [details.rail, details.ach.routingNumber, details.ach.accountNumber].join('|');
  return createHash('sha256').update(identity).digest('hex');
}
