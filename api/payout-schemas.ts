import { z } from 'zod';
import { payout_failure_reasons, payout_id_pattern, payout_statuses } from '../domain/payouts';
import { AmountMinor, Currency, IdempotencyKey, UserId } from './schemas';

/** Payouts' requests and answers (api/routes/payouts.ts); validated by these and documented from them. */
const page_size_max = 100;
const page_size_default = 20;
const payout_wait_max_s = 30;

const PayoutId = z
  .string()
  .regex(payout_id_pattern, 'not a payout id (POST /v1/wallet/{user_id}/payouts gives them)')
  .openapi({ example: 'po_0123456789abcdef0123456789abcdef' });

const BankAccountId = z
  .string()
  .regex(/^ba_[0-9a-f]{32}$/, 'not a bank account id (POST /v1/wallet/{user_id}/bank-accounts gives them)')
  .openapi({ example: 'ba_0123456789abcdef0123456789abcdef' });

export const PayoutBody = z
  .strictObject({
    bank_account_id: BankAccountId,
    amount: AmountMinor,
    currency: Currency.openapi({ description: "the rail's currency (ACH: USD); another is 422 unsupported_currency" }),
    idempotency_key: IdempotencyKey,
  })
  .openapi('PayoutRequest');

export const PayoutIdParams = z.strictObject({ payout_id: PayoutId });

export const PayoutWaitQuery = z.strictObject({
  wait: z
    .string()
    .regex(/^[0-9]{1,2}$/, 'wait must be a whole number of seconds')
    .transform(Number)
    .refine((seconds) => seconds <= payout_wait_max_s, `wait is at most ${payout_wait_max_s} seconds`)
    .optional()
    .openapi({ description: 'seconds to wait until the payout is SETTLED or final (RETURNED, CANCELED, FAILED)' }),
});

export const PayoutResponse = z
  .object({
    payout_id: PayoutId,
    user_id: UserId,
    bank_account_id: BankAccountId,
    amount: AmountMinor,
    currency: Currency,
    status: z.enum(payout_statuses),
    failure_reason: z.enum(payout_failure_reasons).nullable(),
    return_code: z
      .string()
      .nullable()
      .openapi({ example: 'R02', description: 'the NACHA return reason code, once the bank returned it' }),
    trace_number: z
      .string()
      .nullable()
      .openapi({ description: "the entry's trace number at the bank, from BATCHED on" }),
    created_at: z.iso.datetime(),
    status_changed_at: z.iso.datetime(),
    settled_at: z.iso.datetime().nullable(),
    return_window_ends_at: z.iso
      .datetime()
      .nullable()
      .openapi({ description: 'once SETTLED: until when a return can still bring the money back' }),
  })
  .openapi('Payout');

export const OpsPayoutsQuery = z.strictObject({
  stuck: z.enum(['true'], 'stuck must be true (the list is of stuck payouts)').openapi({
    description:
      'payouts before a final state (ACCEPTED, HELD, BATCHED, SUBMITTED) whose status has not changed for PAYOUT_STUCK_AFTER',
  }),
  limit: z.coerce.number().int().min(1).max(page_size_max).default(page_size_default),
});

export const OpsPayoutList = z.object({ payouts: z.array(PayoutResponse) }).openapi('OpsPayoutList');
