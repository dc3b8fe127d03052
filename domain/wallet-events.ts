/**
 * The wallet's events (issue 20, docs/events.md): what the outbox holds, the live feed streams and
 * webhooks and the stream relay send. The SQL trigger functions (db/functions/*_wallet_event.sql)
 * write exactly these types; a new type is one more entry here and in its trigger.
 */
import { payout_statuses } from './payouts';

export const ledger_event_types = ['wallet.credited', 'wallet.debited'] as const;
export const transfer_event_types = [
  'transfer.created',
  'transfer.held_for_review',
  'transfer.approved',
  'transfer.rejected',
  'transfer.completed',
  'transfer.failed',
  'transfer.reversed',
  'transfer.reversal_refused',
] as const;
export const ops_event_types = ['wallet.frozen', 'wallet.unfrozen', 'wallet.closed', 'wallet.limits_changed'] as const;
type PayoutEventType = `payout.${Lowercase<(typeof payout_statuses)[number]>}`;
export const payout_event_types = payout_statuses.map((status) => `payout.${status.toLowerCase()}` as PayoutEventType);
export const payin_event_types = ['payin.credited'] as const;

/** Every event type, in documentation order. */
export const wallet_event_types = [
  ...ledger_event_types,
  ...transfer_event_types,
  ...ops_event_types,
  ...payout_event_types,
  ...payin_event_types,
] as const;
export type WalletEventType = (typeof wallet_event_types)[number];

/** How many events one read answers at most (a feed, a drain, a replay page). */
export const wallet_events_page_max = 500;
