import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { isKnownCurrency, transfer_amount_max_minor } from '../domain/money';
import { user_id_pattern } from '../domain/users';
import { failure_reasons, transfer_statuses } from '../domain/transfers';

extendZodWithOpenApi(z);

/**
 * One set of schemas validates requests and generates /openapi.json, so the document cannot
 * drift from what the API accepts.
 */
export const idempotency_key_length_max = 255;
export const note_length_max = 280;
export const page_size_max = 100;
export const page_size_default = 20;
export const transfer_wait_max_s = 30;

export const UserId = z.string().regex(user_id_pattern, 'user ids are 1-64 of A-Z a-z 0-9 _ -').openapi({ example: 'user_A' });

/** Amounts are JSON integers of minor units (cents): 5000 USD is 50.00 USD. */
export const AmountMinor = z
  .int('amount must be a whole number of minor units (a JSON integer)')
  .positive('amount must be greater than zero')
  .max(Number(transfer_amount_max_minor), `amount must be at most ${transfer_amount_max_minor}`)
  .openapi({ example: 5000, description: 'integer, minor units of the currency' });

/** Shape only; whether the code is a real ISO 4217 currency is a separate check (unsupported_currency). */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'currency must be a three-letter ISO 4217 code').openapi({ example: 'USD' });

/** Lone UTF-16 surrogates and NUL cannot be stored (PostgreSQL text) or hashed faithfully. */
const storable = () => (value: string) => !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);

export const IdempotencyKey = z
  .string()
  .min(1, 'idempotency_key must not be empty')
  .max(idempotency_key_length_max, `idempotency_key must be at most ${idempotency_key_length_max} characters`)
  .refine(storable(), 'idempotency_key must not contain NUL or unpaired surrogates')
  .openapi({ example: 'order-1234' });

export const CreateUserBody = z.strictObject({ user_id: UserId }).openapi('CreateUserRequest');

export const MoneyMovementBody = z
  .strictObject({ amount: AmountMinor, currency: Currency, idempotency_key: IdempotencyKey })
  .openapi('MoneyMovementRequest');

export const TransferBody = z
  .strictObject({
    from_user_id: UserId,
    to_user_id: UserId,
    amount: AmountMinor,
    currency: Currency,
    idempotency_key: IdempotencyKey,
    note: z
      .string()
      .max(note_length_max, `note must be at most ${note_length_max} characters`)
      .refine(storable(), 'note must not contain NUL or unpaired surrogates')
      .optional(),
  })
  .openapi('TransferRequest');

export const WaitQuery = z.strictObject({
  wait: z
    .string()
    .regex(/^[0-9]{1,2}$/, 'wait must be a whole number of seconds')
    .transform(Number)
    .refine((seconds) => seconds <= transfer_wait_max_s, `wait is at most ${transfer_wait_max_s} seconds`)
    .optional()
    .openapi({ description: 'seconds to wait for a final state (answers 200 with the full transfer)' }),
});

export const HistoryQuery = z.strictObject({
  currency: Currency.optional(),
  limit: z.coerce.number().int().min(1).max(page_size_max).default(page_size_default),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'cursor must be a next_cursor value from a previous page')
    .refine((value) => BigInt(value) <= 9_223_372_036_854_775_807n, 'cursor must be a next_cursor value from a previous page')
    .optional(),
});

export const UserIdParams = z.strictObject({ user_id: UserId });
export const TransferIdParams = z.strictObject({ transfer_id: z.string().regex(/^tr_[0-9a-f]{32}$/, 'not a transfer id') });

export const UserResponse = z
  .object({ user_id: UserId, shard: z.int(), created_at: z.iso.datetime() })
  .openapi('User');

export const TransferAccepted = z
  .object({ transfer_id: z.string(), status: z.enum(transfer_statuses), created_at: z.iso.datetime() })
  .openapi('TransferAccepted');

export const TransferResponse = z
  .object({
    transfer_id: z.string(),
    kind: z.enum(['transfer', 'deposit', 'withdrawal']),
    status: z.enum(transfer_statuses),
    from_user_id: UserId.nullable(),
    to_user_id: UserId.nullable(),
    amount: AmountMinor,
    currency: Currency,
    note: z.string().optional(),
    failure_reason: z.enum(failure_reasons).optional(),
    created_at: z.iso.datetime(),
    completed_at: z.iso.datetime().optional(),
    legs: z
      .array(
        z.object({
          leg: z.enum(['debit', 'credit', 'refund']),
          outcome: z.enum(['posted', 'refused', 'voided']),
          reason: z.enum(failure_reasons).optional(),
          decided_at: z.iso.datetime(),
        }),
      )
      .optional()
      .openapi({ description: 'GET only: how the ledger decided each leg' }),
  })
  .openapi('Transfer');

export const BalanceResponse = z
  .object({ user_id: UserId, balances: z.array(z.object({ currency: Currency, amount: z.int() })) })
  .openapi('Balance');

export const HistoryResponse = z
  .object({
    entries: z.array(
      z.object({
        entry_id: z.string(),
        transfer_id: z.string(),
        currency: Currency,
        amount: z.int().openapi({ description: 'signed: negative when money left the wallet' }),
        balance_after: z.int(),
        kind: z.enum(['deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund']),
        created_at: z.iso.datetime(),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('History');

export const ErrorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export { isKnownCurrency };
