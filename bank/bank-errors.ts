/** Every refusal the bank's API answers, with its HTTP status (README, "The bank"). */
export const bank_error_codes = {
  unauthorized: 401,
  invalid_request: 400,
  not_found: 404,
  trace_number_reused: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  file_refused: 422,
  bank_unavailable: 503,
} as const;

export type BankErrorCode = keyof typeof bank_error_codes;

export class BankError extends Error {
  override name = 'BankError';
  constructor(
    readonly code: BankErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return bank_error_codes[this.code];
  }
}
