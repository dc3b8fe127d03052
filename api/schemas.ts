import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { settlement_line_kinds } from '../domain/settlement-match';
import {
  ach_account_types,
  bank_accounts_per_user_max,
  bank_rails,
  holder_name_length_max,
} from '../domain/bank-accounts';
import { isRateText, rate_fraction_digits_max, rate_integer_digits_max } from '../domain/fx';
import { transfer_amount_max_minor } from '../domain/money';
import { transfer_ops_actions } from '../domain/operators';
import { batch_items_max } from '../domain/transfer-batches';
import { user_id_pattern } from '../domain/users';
import { failure_reasons, transfer_statuses } from '../domain/transfers';
import { audit_target_types, ops_actions, ops_channels } from '../ledger/audit';
import { discrepancies_listed_max, discrepancy_kinds } from '../ledger/reconciliation';
import type { ErrorCode } from './errors';

extendZodWithOpenApi(z);

/**
 * One set of schemas validates requests and generates /openapi.json, so the document cannot
 * drift from what the API accepts.
 */
const idempotency_key_length_max = 255;
const note_length_max = 280;
const page_size_max = 100;
const page_size_default = 20;
export const transfer_wait_max_s = 30;

export const UserId = z
  .string()
  .regex(user_id_pattern, 'user ids are 1-64 of A-Z a-z 0-9 _ -')
  .openapi({ example: 'user_A' });

/** Amounts are JSON integers of minor units (cents): 5000 USD is 50.00 USD. */
export const AmountMinor = z
  .int('amount must be a whole number of minor units (a JSON integer)')
  .positive('amount must be greater than zero')
  .max(Number(transfer_amount_max_minor), `amount must be at most ${transfer_amount_max_minor}`)
  .openapi({ example: 5000, description: 'integer, minor units of the currency' });

/** Shape only; whether the wallet holds the currency is a separate check (422 unsupported_currency). */
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'currency must be a three-letter ISO 4217 code')
  .openapi({ example: 'USD', description: "ISO 4217; in a request, one of the wallet's CURRENCIES" });

/** Lone UTF-16 surrogates and NUL cannot be stored (PostgreSQL text) or hashed faithfully. */
const storable = () => (value: string) =>
  !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);

export const IdempotencyKey = z
  .string()
  .min(1, 'idempotency_key must not be empty')
  .max(idempotency_key_length_max, `idempotency_key must be at most ${idempotency_key_length_max} characters`)
  .refine(storable(), 'idempotency_key must not contain NUL or unpaired surrogates')
  .openapi({ example: 'order-1234' });

const Note = z
  .string()
  .max(note_length_max, `note must be at most ${note_length_max} characters`)
  .refine(storable(), 'note must not contain NUL or unpaired surrogates');

export const CreateUserBody = z.strictObject({ user_id: UserId }).openapi('CreateUserRequest');

export const MoneyMovementBody = z
  .strictObject({ amount: AmountMinor, currency: Currency, idempotency_key: IdempotencyKey })
  .openapi('MoneyMovementRequest');

const QuoteId = z
  .string()
  .regex(/^q_[0-9a-f]{32}$/, 'not a quote id (POST /v1/wallet/fx/quotes gives them)')
  .openapi({ example: 'q_0123456789abcdef0123456789abcdef' });

export const TransferBody = z
  .strictObject({
    from_user_id: UserId,
    to_user_id: UserId,
    amount: AmountMinor.openapi({ description: 'minor units of `currency`, the amount that leaves the sender' }),
    currency: Currency,
    target_currency: Currency.optional().openapi({
      description: "convert: the recipient gets this currency, at the quote's rate or the current one",
    }),
    quote_id: QuoteId.optional().openapi({
      description: 'with target_currency: the unexpired quote whose rate this transfer uses',
    }),
    idempotency_key: IdempotencyKey,
    note: Note.optional(),
  })
  // zod runs object checks even when a field failed: look only at values of the right type.
  .refine((body) => typeof body.quote_id !== 'string' || typeof body.target_currency === 'string', {
    message: 'quote_id needs target_currency',
    path: ['quote_id'],
  })
  .refine((body) => typeof body.target_currency !== 'string' || body.target_currency !== body.currency, {
    message: 'target_currency must differ from currency (leave it out for a same-currency transfer)',
    path: ['target_currency'],
  })
  .openapi('TransferRequest');

const BatchItemBody = z
  .strictObject({
    to_user_id: UserId,
    amount: AmountMinor,
    currency: Currency,
    note: Note.optional(),
    idempotency_key: IdempotencyKey.openapi({
      example: 'payroll-2026-12-alice',
      description:
        "the item's own key: the transfer a single POST with this key makes (done once, whichever asks first)",
    }),
  })
  .openapi('TransferBatchItemRequest');

export const TransferBatchBody = z
  .strictObject({
    from_user_id: UserId.openapi({ description: 'the payer: the caller (or any user, with an ops token)' }),
    idempotency_key: IdempotencyKey.openapi({ example: 'payroll-2026-12' }),
    items: z
      .array(BatchItemBody)
      .min(1, 'a batch needs at least one item')
      .max(batch_items_max, `a batch carries at most ${batch_items_max} items`),
  })
  // zod runs object checks even when a field failed: look only at values of the right type.
  .refine((body) => !Array.isArray(body.items) || new Set(body.items.map((item) => item?.currency)).size <= 1, {
    message: 'a batch moves one currency: every item must have the same currency',
    path: ['items'],
  })
  .refine(
    (body) =>
      !Array.isArray(body.items) || new Set(body.items.map((item) => item?.idempotency_key)).size === body.items.length,
    { message: 'two items of the batch have the same idempotency_key', path: ['items'] },
  )
  .openapi('TransferBatchRequest');

const batch_statuses = ['RUNNING', 'COMPLETED'] as const;
const BatchId = z.string().regex(/^tb_[0-9a-f]{32}$/, 'not a batch id');
export const BatchIdParams = z.strictObject({ batch_id: BatchId });

export const TransferBatchAccepted = z
  .object({
    batch_id: BatchId,
    status: z.enum(batch_statuses),
    item_count: z.int(),
    total_amount: z.int(),
    currency: Currency,
    created_at: z.iso.datetime(),
  })
  .openapi('TransferBatchAccepted');

export const TransferBatchResponse = z
  .object({
    ...TransferBatchAccepted.shape,
    from_user_id: UserId,
    completed_at: z.iso.datetime().optional().openapi({ description: 'when the batch workflow saw every item final' }),
    counts: z.record(z.enum(transfer_statuses), z.int()).openapi({ description: 'items by status' }),
    items: z.array(
      z.object({
        position: z.int(),
        idempotency_key: z.string(),
        transfer_id: z.string(),
        to_user_id: UserId,
        amount: z.int(),
        status: z.enum(transfer_statuses),
        failure_reason: z.enum(failure_reasons).optional(),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('TransferBatch');

export const QuoteBody = z
  .strictObject({
    from_currency: Currency,
    to_currency: Currency,
    amount: AmountMinor.openapi({ description: 'minor units of from_currency to convert' }),
  })
  .refine((body) => typeof body.from_currency !== 'string' || body.from_currency !== body.to_currency, {
    message: 'to_currency must differ from from_currency',
    path: ['to_currency'],
  })
  .openapi('QuoteRequest');

export const QuoteResponse = z
  .object({
    quote_id: QuoteId,
    from_currency: Currency,
    to_currency: Currency,
    rate: z
      .string()
      .openapi({ example: '1.0845', description: 'exact decimal: units of to_currency per unit of from_currency' }),
    source_amount: z.int(),
    target_amount: z.int().openapi({ description: 'rounded down to a whole minor unit of to_currency' }),
    expires_at: z.iso.datetime(),
  })
  .openapi('Quote');

export const RatePairParams = z.strictObject({ base: Currency, quote: Currency });

export const SetRateBody = z
  .strictObject({
    rate: z
      .string()
      .refine(
        isRateText,
        `rate must be a decimal string above zero, such as "1.0845": at most ${rate_integer_digits_max} digits before the point and ${rate_fraction_digits_max} after, no sign or exponent`,
      )
      .openapi({ example: '1.0845' }),
    reason: z
      .string()
      .trim()
      .min(1, 'reason must not be empty')
      .max(500, 'reason must be at most 500 characters')
      .refine(storable(), 'reason must not contain NUL or unpaired surrogates')
      .optional(),
  })
  .openapi('SetRateRequest');

export const RateResponse = z
  .object({
    base: Currency,
    quote: Currency,
    rate: z.string(),
    set_by: z.string(),
    reason: z.string().optional(),
    set_at: z.iso.datetime(),
  })
  .openapi('Rate');

/** Written out rather than `.extend`ed: an allOf could not be closed by the contract test (test/support/contract.ts). */
export const RateHistoryResponse = z
  .object({ ...RateResponse.shape, history: z.array(RateResponse) })
  .openapi('RateHistory');

export const RateListResponse = z.object({ rates: z.array(RateResponse) }).openapi('RateList');

export const WaitQuery = z.strictObject({
  wait: z
    .string()
    .regex(/^[0-9]{1,2}$/, 'wait must be a whole number of seconds')
    .transform(Number)
    .refine((seconds) => seconds <= transfer_wait_max_s, `wait is at most ${transfer_wait_max_s} seconds`)
    .optional()
    .openapi({ description: 'seconds to wait for a final state (answers 200 with the full transfer)' }),
});

/** An RFC 3339 instant with its offset (`2026-11-22T08:00:00Z`, `...+01:00`, fractions to the microsecond). */
/** Years 0001 to 9999 in UTC: PostgreSQL has no year 0, and an offset can push 0001-01-01 into it. */
const instant_min_ms = Date.parse('0001-01-01T00:00:00Z');
const instant_max_ms = Date.parse('9999-12-31T23:59:59.999Z');

export const Instant = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time with an offset, such as 2026-11-22T08:00:00Z' })
  .refine((value) => {
    const ms = Date.parse(value);
    return !Number.isFinite(ms) || (ms >= instant_min_ms && ms <= instant_max_ms);
  }, 'must lie between the years 0001 and 9999 (UTC)')
  .openapi({ example: '2026-11-22T08:00:00Z' });

export const BalanceQuery = z.strictObject({
  at: Instant.optional().openapi({
    description: 'the balances as they stood at this instant (an entry posted exactly then is included)',
  }),
});

export const HistoryQuery = z.strictObject({
  currency: Currency.optional(),
  from: Instant.optional().openapi({ description: 'entries posted at or after this instant' }),
  to: Instant.optional().openapi({ description: 'entries posted before this instant' }),
  limit: z.coerce.number().int().min(1).max(page_size_max).default(page_size_default),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'cursor must be a next_cursor value from a previous page')
    // zod runs every check even after the regex failed: this one must not throw on other text.
    .refine(
      (value) => /^[0-9]{1,19}$/.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n,
      'cursor must be a next_cursor value from a previous page',
    )
    .optional(),
});

export const UserIdParams = z.strictObject({ user_id: UserId });

/** A reconnecting feed's last sequence number (GET /v1/wallet/{user_id}/events): a signed 64-bit integer, no sign or leading zero. */
export const LastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .regex(/^(0|[1-9][0-9]{0,18})$/, 'not a sequence number')
    // zod runs this even when the pattern failed: BigInt only on digits.
    .refine(
      (value) => !/^[0-9]+$/.test(value) || BigInt(value) <= 9_223_372_036_854_775_807n,
      'past the largest sequence number',
    )
    .optional(),
});
export const TransferIdParams = z.strictObject({
  transfer_id: z.string().regex(/^tr_[0-9a-f]{32}$/, 'not a transfer id'),
});

export const UserResponse = z.object({ user_id: UserId, shard: z.int(), created_at: z.iso.datetime() }).openapi('User');

export const TransferAccepted = z
  .object({ transfer_id: z.string(), status: z.enum(transfer_statuses), created_at: z.iso.datetime() })
  .openapi('TransferAccepted');

const ConversionJson = z.object({
  source_amount: z.int(),
  source_currency: Currency,
  target_amount: z.int(),
  target_currency: Currency,
  rate: z.string().openapi({ description: 'exact decimal: units of target_currency per unit of source_currency' }),
  quote_id: QuoteId.optional(),
});

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
    reversal: z
      .object({
        reversed_at: z.iso.datetime(),
        reversed_by: z.string(),
        reason: z.string(),
        allow_negative: z.boolean(),
      })
      .optional()
      .openapi({ description: 'present when ops reversed the transfer (status REVERSED)' }),
    reversal_refused_reason: z
      .enum(['insufficient_funds'])
      .optional()
      .openapi({ description: 'the last reversal attempt was refused: the recipient could not cover it' }),
    conversion: ConversionJson.optional().openapi({
      description: 'cross-currency transfers: the rate and both amounts, fixed when the transfer was accepted',
    }),
    legs: z
      .array(
        z.object({
          leg: z.enum(['debit', 'credit', 'refund', 'reversal_debit', 'reversal_credit']),
          amount: z
            .int()
            .openapi({ description: 'what this leg moves (in or out of the wallet), in minor units of its currency' }),
          currency: Currency,
          outcome: z.enum(['posted', 'refused', 'voided']),
          reason: z.enum(failure_reasons).optional(),
          decided_at: z.iso.datetime(),
        }),
      )
      .optional()
      .openapi({ description: 'GET only: how the ledger decided each leg' }),
  })
  .openapi('Transfer');

/** What approve and reject answer: the transfer after the decision, and where its review stands. */
export const ReviewedTransferResponse = z
  .object({
    ...TransferResponse.shape,
    review: z
      .object({ approvals: z.int(), approvals_required: z.int() })
      .openapi({ description: 'approvals so far, and how many the transfer needs (2 at the four-eyes threshold)' }),
  })
  .openapi('ReviewedTransfer');

/** What retry answers: the transfer's record, and where its workflow stands after the step ran again. */
export const RetriedTransferResponse = z
  .object({
    ...TransferResponse.shape,
    retry: z.object({ status: z.enum(transfer_statuses), step: z.string() }).openapi({
      description:
        "the workflow's status after the retried step ran (NEEDS_ATTENTION again if it failed again), and its step",
    }),
  })
  .openapi('RetriedTransfer');

const balance_now_only = 'absent with ?at= (only the ledger balance is kept over time)';
export const BalanceResponse = z
  .object({
    user_id: UserId,
    balances: z.array(
      z.object({
        currency: Currency,
        amount: z.int().openapi({
          description:
            'the ledger balance of the wallet: money held for a payout has already left it (it is in pending_out)',
        }),
        available: z
          .int()
          .optional()
          .openapi({
            description: `what a transfer, withdrawal or payout may take now: amount above the wallet's minimum balance, never below 0; ${balance_now_only}`,
          }),
        pending_out: z
          .int()
          .optional()
          .openapi({
            description: `held for payouts not yet settled or released; back in amount if the payout is canceled or returned before settlement; ${balance_now_only}`,
          }),
        pending_in: z
          .int()
          .optional()
          .openapi({
            description: `on its way in and not in amount yet (0 today: pay-ins credit at once); ${balance_now_only}`,
          }),
      }),
    ),
  })
  .openapi('Balance');

/** The kinds of a wallet's entries (the entries_kind_check constraint holds these and the system accounts' kinds). */
const history_entry_kinds = [
  'deposit',
  'withdrawal',
  'transfer_out',
  'transfer_in',
  'refund',
  'reversal_out',
  'reversal_in',
  'payout_hold',
  'payout_release',
  'payout_return',
] as const;
export const HistoryResponse = z
  .object({
    entries: z.array(
      z.object({
        entry_id: z.string(),
        transfer_id: z.string(),
        currency: Currency,
        amount: z.int().openapi({ description: 'signed: negative when money left the wallet' }),
        balance_after: z.int(),
        kind: z.enum(history_entry_kinds).openapi({
          description:
            'payout_hold: money held for a payout (pending until it settles); payout_release: a hold given back (canceled, or returned before settlement); payout_return: a settled payout the bank returned',
        }),
        created_at: z.iso.datetime(),
        transfer: z.string().openapi({
          description:
            'the transfer, or for payout_* entries the payout (GET this path); its id is also its Temporal workflow id',
          example: '/v1/wallet/transfers/tr_0123456789abcdef0123456789abcdef',
        }),
        workflow_id: z.string(),
        undoes_entry_id: z.string().optional().openapi({
          description:
            'refunds, reversals, payout releases and returns: the entry of this wallet that this one gives back',
        }),
        conversion: ConversionJson.omit({ quote_id: true })
          .optional()
          .openapi({ description: 'entries of cross-currency transfers: the rate and both amounts' }),
        pay_in: z.object({ trace_number: z.string(), originator_name: z.string() }).optional().openapi({
          description:
            "deposits that came from the bank: the sender's name and the ACH trace number (the entry's transfer is /v1/wallet/payins/{trace_number}, its workflow_id the poll that posted it)",
        }),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('History');

const ops_reason_length_max = 500;

/** Every ops action says why: it is audited with the operator (the token's sub). */
const OpsReason = z
  .string()
  .trim()
  .min(1, 'reason must not be empty')
  .max(ops_reason_length_max, `reason must be at most ${ops_reason_length_max} characters`)
  .refine(storable(), 'reason must not contain NUL or unpaired surrogates')
  .openapi({ example: 'customer dispute #123' });

export const OpsReasonBody = z.strictObject({ reason: OpsReason }).openapi('OpsReasonRequest');
export const OptionalOpsReasonBody = z
  .strictObject({ reason: OpsReason.optional() })
  .default({})
  .openapi('OptionalOpsReasonRequest');

export const ReverseBody = z
  .strictObject({
    reason: OpsReason,
    allow_negative: z.boolean().optional().openapi({
      description: 'reverse even when the recipient cannot cover it (their balance goes negative); audited',
    }),
  })
  .openapi('ReverseRequest');

export const ActionTokenBody = z
  .strictObject({
    action: z.enum(transfer_ops_actions),
    allow_negative: z.boolean().optional().openapi({
      description: 'reverse only: the token allows a reversal that takes the recipient below zero',
    }),
  })
  .openapi('ActionTokenRequest');

export const ActionTokenResponse = z
  .object({
    token: z.string().openapi({ description: 'send it as "token" in the signal\'s input, with a "reason"' }),
    operator: z.string().openapi({ description: 'the ops caller, normalized: who the action will be recorded as' }),
    action: z.enum(transfer_ops_actions),
    transfer_id: z.string(),
    allow_negative: z.boolean(),
    expires_at: z.iso.datetime(),
  })
  .openapi('ActionToken');

/** A signed amount of minor units: a negative minimum balance is an overdraft allowance. */
const SignedMinor = z
  .int('must be a whole number of minor units (a JSON integer)')
  .min(-Number(transfer_amount_max_minor))
  .max(Number(transfer_amount_max_minor));

export const UserFrozenResponse = z.object({ user_id: UserId, frozen: z.boolean() }).openapi('UserFrozen');

export const UserClosedResponse = z.object({ user_id: UserId, closed_at: z.iso.datetime() }).openapi('UserClosed');

export const WalletLimitsBody = z
  .strictObject({
    min_balance: SignedMinor.optional().openapi({
      description: 'debits may not take the balance below this; negative: overdraft allowance',
    }),
    daily_outgoing_max: AmountMinor.nullable()
      .optional()
      .openapi({ description: "this wallet's rolling 24-hour outgoing limit; null: the default" }),
    reason: OpsReason,
  })
  .refine(
    (body) => body.min_balance !== undefined || body.daily_outgoing_max !== undefined,
    'send min_balance, daily_outgoing_max or both',
  )
  .openapi('WalletLimitsRequest');

export const UserCurrencyParams = z.strictObject({ user_id: UserId, currency: Currency });

export const WalletLimitsResponse = z
  .object({
    user_id: UserId,
    currency: Currency,
    min_balance: z.int(),
    daily_outgoing_max: z.int().nullable(),
    daily_outgoing_default: z.int(),
  })
  .openapi('WalletLimits');

const audit_page_size_max = 200;

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(audit_page_size_max).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}_[0-9]{1,3}_[0-9]{1,19}$/, 'cursor must be a next_cursor value from a previous page')
    // zod runs every check even after the regex failed: this one must not throw on other text.
    .refine(
      (value) =>
        value.split('_').every((part) => /^[0-9]{1,19}$/.test(part) && BigInt(part) <= 9_223_372_036_854_775_807n),
      'cursor must be a next_cursor value from a previous page',
    )
    .optional(),
  operator: z
    .string()
    .min(1)
    .max(128)
    .refine(storable(), 'operator must not contain NUL or unpaired surrogates')
    .optional(),
  action: z.enum(ops_actions).optional(),
  target: z
    .string()
    .min(1)
    .max(128)
    .refine(storable(), 'target must not contain NUL or unpaired surrogates')
    .optional(),
});

export const AuditResponse = z
  .object({
    entries: z.array(
      z.object({
        occurred_at: z.iso.datetime(),
        operator: z.string(),
        action: z.enum(ops_actions),
        target_type: z.enum(audit_target_types),
        target_id: z.string(),
        reason: z.string().nullable(),
        via: z.enum(ops_channels),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('Audit');

/** Cursors of the ops transfer listing wrap Temporal's page tokens (api/page-cursor.ts); real ones are far shorter. */
const ops_transfer_cursor_length_max = 2_048;

export const OpsTransfersQuery = z
  .strictObject({
    status: z.enum(transfer_statuses).optional(),
    stuck: z
      .enum(['true', 'false'], 'stuck must be true or false')
      .transform((value) => value === 'true')
      .optional()
      .openapi({ description: 'true: running transfers still PENDING longer than STUCK_AFTER after they started' }),
    limit: z.coerce.number().int().min(1).max(page_size_max).default(page_size_default),
    cursor: z
      .string()
      .regex(
        new RegExp(`^[A-Za-z0-9_-]{1,${ops_transfer_cursor_length_max}}$`),
        'cursor must be a next_cursor value from a previous page',
      )
      .optional(),
  })
  .refine((query) => !(query.stuck === true && query.status !== undefined), {
    message: 'stuck=true lists PENDING transfers; leave out status',
    path: ['stuck'],
  });

export const OpsTransferList = z
  .object({
    transfers: z.array(
      z.object({
        transfer_id: z.string(),
        status: z.enum(transfer_statuses).nullable(),
        from_user: z.string().nullable().openapi({ description: 'user id, or settlement:<currency> for a deposit' }),
        to_user: z.string().nullable().openapi({ description: 'user id, or settlement:<currency> for a withdrawal' }),
        amount: z.int().nullable(),
        currency: Currency.nullable(),
        started_at: z.iso.datetime(),
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi('OpsTransferList');

/** Documents GET /v1/ops/reconciliation (ledger/reconciliation.ts); amounts are integers of minor units. */
export const ReconciliationResponse = z
  .object({
    run_id: z.string(),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
    ok: z.boolean(),
    discrepancy_count: z.int(),
    workflow_id: z.string().nullable(),
    discrepancies: z
      .array(
        z.object({
          kind: z.enum(discrepancy_kinds),
          shard: z.int().optional(),
          account_id: z.string().optional(),
          transfer_id: z.string().optional(),
          leg: z.string().optional(),
          currency: Currency,
          stored: z.int().optional().openapi({
            description:
              "balance_mismatch: the account balance; payouts_in_flight_mismatch: the shard's payouts_in_flight balance",
          }),
          computed: z.int().optional().openapi({
            description:
              'balance_mismatch: the sum of its entries; payouts_in_flight_mismatch: the sum of its open holds',
          }),
          sum: z.int().optional(),
          net: z
            .int()
            .optional()
            .openapi({ description: 'clearing lines: money in clearing that no transfer in flight explains' }),
          status: z.enum(transfer_statuses).nullable().optional(),
          buckets: z.int().optional(),
          clearing: z.int().optional(),
          in_flight: z.int().optional(),
          entry_id: z
            .string()
            .optional()
            .openapi({ description: 'chain_broken: the first entry whose chain link does not hold' }),
          problem: z.string().optional().openapi({
            description: 'chain_broken: hash_mismatch, seq_gap, unchained, tail_mismatch or snapshot_mismatch',
          }),
        }),
      )
      .openapi({ description: `at most ${discrepancies_listed_max}; discrepancy_count counts them all` }),
    currencies: z.array(
      z.object({
        currency: Currency,
        customer: z.int(),
        clearing: z.int(),
        settlement: z.int(),
        fx: z.int(),
        payouts_in_flight: z
          .int()
          .openapi({ description: 'payouts held and not yet settled or released (0 in reports from before payouts)' }),
        in_flight: z.int(),
        in_flight_transfers: z.int(),
      }),
    ),
  })
  .openapi('Reconciliation');

/** The error body of one status: its code is one of those error_codes gives that status. */
export function errorBody(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({ error: z.object({ code: z.enum(codes), message: z.string(), details: z.unknown().optional() }) });
}

export const HealthResponse = z.object({ status: z.enum(['ok']) }).openapi('Health');

export const ReadinessResponse = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z
      .object({ shards: z.string(), temporal: z.string() })
      .openapi({ description: "`ok`, or the first line of the probe's error" }),
  })
  .openapi('Readiness');

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** A batch of payloads at most this long per codec request (a history page). */
const codec_payloads_max = 10_000;

/** Temporal's codec server protocol: Payloads as protobuf JSON (metadata values and data in base64). */
export const CodecPayloads = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }).strict())
      .max(codec_payloads_max),
  })
  .strict()
  .openapi('CodecPayloads');

const batch_items_page_max = 1_000;
const batch_items_page_default = 100;
export const BatchQuery = z.strictObject({
  ...WaitQuery.shape,
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(batch_items_page_max)
    .default(batch_items_page_default)
    .openapi({ description: 'items per page' }),
  cursor: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'cursor must be a next_cursor value from a previous page')
    .optional()
    .openapi({ description: 'next_cursor of the previous page' }),
});

/** A route that takes no query parameters refuses any, rather than ignoring a misspelt one. */
export const NoQuery = z.strictObject({});

/**
 * Digits, checked by the route (domain/bank-accounts.ts) so a bad routing number or account number
 * gets its own 422 code; the bound here only keeps a hostile body short.
 */
const bank_field_length_max = 64;
const BankDigits = (example: string, description: string) =>
  z
    .string()
    .max(bank_field_length_max, `must be at most ${bank_field_length_max} characters`)
    .openapi({ example, description });

export const BankAccountBody = z
  .strictObject({
    routing_number: BankDigits(
      '011000015',
      'ABA routing number: 9 digits whose check digit holds (422 invalid_routing_number otherwise)',
    ),
    account_number: BankDigits(
      '000123456789',
      'the account number, 4 to 17 digits (422 invalid_account_number otherwise); stored, never shown or logged but as its last 4 digits',
    ),
    holder_name: z
      .string()
      .trim()
      .min(1, 'holder_name must not be empty')
      .max(holder_name_length_max, `holder_name must be at most ${holder_name_length_max} characters`)
      .refine((value) => !/\p{Cc}/u.test(value), 'holder_name must not contain control characters')
      .refine(storable(), 'holder_name must not contain NUL or unpaired surrogates')
      .openapi({ example: 'Alice Example' }),
    account_type: z.enum(ach_account_types),
  })
  .openapi('BankAccountRequest');

export const BankAccountParams = z.strictObject({
  user_id: UserId,
  bank_account_id: z
    .string()
    .regex(/^ba_[0-9a-f]{32}$/, 'not a bank account id (POST /v1/wallet/{user_id}/bank-accounts gives them)'),
});

export const BankAccountResponse = z
  .object({
    bank_account_id: z.string().openapi({ example: 'ba_0123456789abcdef0123456789abcdef' }),
    user_id: UserId,
    rail: z
      .enum(bank_rails)
      .openapi({ description: 'the payment rail; its own fields are under the key of the same name' }),
    currency: Currency.openapi({ description: 'the one currency the rail moves (ach: USD)' }),
    holder_name: z.string(),
    ach: z
      .object({
        routing_number: z.string(),
        account_type: z.enum(ach_account_types),
        account_number_last4: z
          .string()
          .openapi({ example: '6789', description: 'the account number is never shown whole' }),
      })
      .openapi({ description: 'rail ach' }),
    created_at: z.iso.datetime(),
    deleted_at: z.iso
      .datetime()
      .nullable()
      .openapi({ description: 'when it was removed: it takes no new payouts; payouts to it keep their record' }),
  })
  .openapi('BankAccount');

export const BankAccountListResponse = z
  .object({
    bank_accounts: z
      .array(BankAccountResponse)
      .openapi({ description: `the live ones, oldest first (at most ${bank_accounts_per_user_max})` }),
  })
  .openapi('BankAccountList');

/** A wallet's virtual account at our bank: pay into it by ACH credit and the money becomes a deposit. */
export const FundingInstructionsResponse = z
  .object({
    user_id: UserId,
    rail: z.literal('ach'),
    currency: Currency.openapi({ description: 'ACH moves USD' }),
    bank_name: z.string().openapi({ example: 'Wallet Dev Bank' }),
    routing_number: z.string().openapi({ example: '231380104', description: "our bank's ABA routing number" }),
    account_number: z.string().openapi({
      example: '700000000013',
      description:
        "this wallet's virtual account: 12 digits with a Luhn check digit, allocated on the first read, never reused",
    }),
    account_type: z.literal('checking'),
  })
  .openapi('FundingInstructions');

export const PayinFilesQuery = z.strictObject({
  outcome: z.enum(['refused']).optional().openapi({ description: 'refused: only the files the rail refused' }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const PayinFilesResponse = z
  .object({
    files: z.array(
      z.object({
        cursor: z.string().openapi({ description: "the bank's cursor of the file" }),
        file_name: z.string(),
        outcome: z.enum(['processed', 'refused']),
        reason: z.string().nullable().openapi({ description: 'why the rail refused the file (moov-io/ach says)' }),
        credits: z.number().int(),
        returned: z.number().int().openapi({ description: 'credits decided for return (R02, R03)' }),
        duplicates: z.number().int().openapi({ description: 'credits seen before: nothing moved again' }),
        conflicts: z
          .number()
          .int()
          .openapi({ description: 'trace numbers seen before with another account or amount: nothing moved' }),
        processed_at: z.iso.datetime(),
      }),
    ),
  })
  .openapi('PayinFiles');

export const PayinParams = z.strictObject({
  trace_number: z.string().regex(/^[0-9]{15}$/, 'an ACH trace number is 15 digits'),
});

export const PayinResponse = z
  .object({
    trace_number: z.string().openapi({ example: '091000010000001' }),
    user_id: UserId.nullable().openapi({ description: 'null: the account number named no wallet (returned R03)' }),
    amount: z.number().int(),
    currency: Currency,
    originator_name: z.string().openapi({ example: 'ACME PAYROLL' }),
    status: z.enum(['received', 'credited', 'return_pending', 'returned']).openapi({
      description:
        'received: being credited; credited: a deposit; return_pending: to go back in the next return file; returned: the bank took the return',
    }),
    return_code: z
      .string()
      .nullable()
      .openapi({ description: 'R02 the wallet is closed, R03 no wallet has this account number' }),
    received_at: z.iso.datetime(),
  })
  .openapi('Payin');

const SettlementLineJson = z.object({
  kind: z.enum(settlement_line_kinds),
  trace_number: z.string().openapi({ description: "the entry's ACH trace number, the key both sides share" }),
  amount_minor: z
    .int()
    .openapi({ description: 'signed as the statement signs it: money out of our settlement account is negative' }),
  posted_at: z.iso.datetime(),
  reference: z.string().optional().openapi({
    description:
      "the wallet's own id of the money (payout po_..., pay-in pi_...), or 'unclaimed' for a credit no wallet took",
  }),
});

const SettlementTotals = z.object({ line_count: z.int(), net_minor: z.int() });

export const SettlementRunResponse = z
  .object({
    run_id: z.string(),
    statement_date: z.iso.date(),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
    ok: z.boolean().openapi({ description: 'no break: every line matched, in transit or across midnight' }),
    break_count: z.int(),
    workflow_id: z.string().nullable(),
    report: z.object({
      date: z.iso.date(),
      ok: z.boolean(),
      break_count: z.int(),
      matched: z.object({ count: z.int(), net_minor: z.int() }),
      missing_in_ledger: z
        .array(SettlementLineJson)
        .openapi({ description: "on the bank's statement, not in the ledger (break)" }),
      missing_at_bank: z
        .array(SettlementLineJson)
        .openapi({ description: 'in the ledger that day, on no statement of the day or the days around it (break)' }),
      amount_mismatches: z
        .array(
          z.object({
            kind: z.enum(settlement_line_kinds),
            trace_number: z.string(),
            bank_amount_minor: z.int(),
            ledger_amount_minor: z.int(),
            reference: z.string().optional(),
          }),
        )
        .openapi({ description: 'on both sides with different amounts (break)' }),
      in_transit: z.array(SettlementLineJson).openapi({
        description: 'on the statement, not yet in the ledger, younger than SETTLEMENT_GRACE (not a break)',
      }),
      across_midnight: z.array(SettlementLineJson).openapi({
        description: "in the ledger that day, on the bank's statement of the day before or after (not a break)",
      }),
      bank: SettlementTotals,
      ledger: SettlementTotals,
      statement: z.object({ currency: Currency, opening_balance_minor: z.int(), closing_balance_minor: z.int() }),
    }),
  })
  .openapi('SettlementRun');

export const SettlementDateParams = z.object({
  date: z.iso.date().openapi({ description: 'the banking day, YYYY-MM-DD (UTC)', example: '2026-12-06' }),
});

export const SettlementRunStarted = z.object({ workflow_id: z.string(), statement_date: z.iso.date() });
