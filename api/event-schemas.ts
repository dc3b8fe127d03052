import { z } from 'zod';
import {
  ledger_event_types,
  ops_event_types,
  payin_event_types,
  payout_event_types,
  transfer_event_types,
} from '../domain/wallet-events';
import { UserId } from './schemas';

/**
 * The wallet event envelope, schema version 1 (docs/events.md): what the live feed's `data:` lines
 * carry, and webhooks and the stream send. Documented here, in /openapi.json, from the same type
 * lists the outbox's triggers write.
 */
const Minor = z.int().openapi({ description: 'integer, minor units' });
const Amount = z.int().positive().openapi({ description: 'integer, minor units, always positive' });
const Currency = z.string().regex(/^[A-Z]{3}$/);

const LedgerData = z.object({
  entry_id: z.string().regex(/^[0-9]+$/),
  transfer_id: z
    .string()
    .openapi({ description: "the posting's key: a transfer id, a payout id (po_...) or a pay-in (pi_<trace number>)" }),
  leg: z.string().openapi({ example: 'debit' }),
  kind: z.string().openapi({ example: 'transfer_out', description: "the entry's kind" }),
  currency: Currency,
  amount: Amount,
  balance_after: Minor.openapi({ description: "the account's ledger balance after this entry" }),
});

const TransferData = z.object({
  transfer_id: z.string(),
  kind: z.enum(['transfer', 'deposit', 'withdrawal']),
  status: z.string().openapi({ description: "the record's status after the change" }),
  from_user_id: UserId.nullable(),
  to_user_id: UserId.nullable(),
  currency: Currency,
  amount: Amount,
  failure_reason: z.string().optional().openapi({ description: 'transfer.failed and transfer.rejected' }),
  reversal_forced: z.boolean().nullable().optional().openapi({ description: 'transfer.reversed' }),
  refusal: z.string().optional().openapi({ description: 'transfer.reversal_refused' }),
});

const OpsData = z.object({
  closed_at: z.string().optional().openapi({ description: 'wallet.closed' }),
  currency: Currency.optional().openapi({ description: 'wallet.limits_changed' }),
  min_balance: Minor.optional().openapi({ description: 'wallet.limits_changed' }),
  daily_outgoing_max: Minor.nullable()
    .optional()
    .openapi({ description: 'wallet.limits_changed; null: the default applies' }),
});

const PayoutData = z.object({
  payout_id: z.string(),
  status: z.string(),
  bank_account_id: z.string(),
  rail: z.string(),
  currency: Currency,
  amount: Amount,
  failure_reason: z.string().optional(),
  return_code: z.string().optional(),
});

const PayinData = z.object({
  posting_id: z.string(),
  trace_number: z.string(),
  currency: Currency,
  amount: Amount,
  originator_name: z.string(),
});

function envelope<T extends readonly [string, ...string[]]>(types: T, data: z.ZodType) {
  return z.object({
    id: z.string().openapi({ example: 'ev_user_A_7', description: 'stable and unique: deduplicate on it' }),
    type: z.enum(types),
    schema_version: z.literal(1),
    user_id: UserId,
    sequence: z.int().positive().openapi({ description: "gap-free per wallet from 1; the feed's SSE id" }),
    occurred_at: z.string().openapi({ description: 'ISO 8601, when the change was made' }),
    data,
  });
}

export const WalletEventSchema = z
  .discriminatedUnion('type', [
    envelope(ledger_event_types, LedgerData),
    envelope(transfer_event_types, TransferData),
    envelope(ops_event_types, OpsData),
    envelope(payout_event_types as unknown as [string, ...string[]], PayoutData),
    envelope(payin_event_types, PayinData),
  ])
  .openapi('WalletEvent', {
    description:
      'One wallet event, schema version 1 (docs/events.md). A compatible change adds fields; anything else is a new schema_version of that type.',
  });
