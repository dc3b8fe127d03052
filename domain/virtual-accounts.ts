/**
 * Virtual account numbers: the account number at our bank that pays into one wallet (ACH credits
 * to our routing number). Twelve digits: a leading 7, ten digits of the allocation counter
 * (virtual_account_sequence on the reference shard) and a Luhn check digit, so a number mistyped
 * by one digit or two swapped neighbours names no wallet and the credit is returned R03 instead
 * of landing in a stranger's wallet. Pure: the allocation itself is ledger/virtual-accounts.ts.
 */

const virtual_account_prefix = '7';
const counter_digits = 10;
const virtual_account_pattern = /^7[0-9]{11}$/;

/** The Luhn check digit of a string of digits (the digit appended to make the whole valid). */
function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    // From the right, the digit next to the check digit is doubled, then every second one.
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The account number of allocation `counter` (1 to 9,999,999,999). */
export function virtualAccountNumberOf(counter: bigint): string {
  if (counter < 1n || counter >= 10n ** BigInt(counter_digits))
    throw new RangeError(`a virtual account counter is 1 to ${10n ** BigInt(counter_digits) - 1n}, not ${counter}`);
  const body = `${virtual_account_prefix}${counter.toString().padStart(counter_digits, '0')}`;
  return `${body}${luhnCheckDigit(body)}`;
}

/** True when the text is shaped as our virtual account numbers are and its check digit holds. */
export function isVirtualAccountNumber(text: string): boolean {
  return virtual_account_pattern.test(text) && luhnCheckDigit(text.slice(0, -1)) === text.slice(-1);
}
