-- A payout's record created or changing status (triggers payouts_wallet_event_*), as
-- payout.<status in lower case>: payout.accepted, payout.pending_review, payout.held,
-- payout.batched, payout.submitted, payout.settled, payout.returned, payout.canceled,
-- payout.failed. Never the bank account's number: its id only.
create or replace function payout_wallet_event()
returns trigger
language plpgsql
as $$
begin
  perform append_wallet_event(new.user_id, 'payout.' || lower(new.status),
    jsonb_build_object('payout_id', new.payout_id, 'status', new.status, 'bank_account_id', new.bank_account_id,
                       'rail', new.rail, 'currency', new.currency, 'amount', new.amount)
    || jsonb_strip_nulls(jsonb_build_object('failure_reason', new.failure_reason, 'return_code', new.return_code)));
  return null;
end $$;
