-- A wallet's limits changed by ops (trigger accounts_wallet_event, customer accounts only):
-- wallet.limits_changed with the currency's floor and daily outgoing maximum as they are now
-- (daily_outgoing_max null: the default applies).
create or replace function account_wallet_event()
returns trigger
language plpgsql
as $$
begin
  perform append_wallet_event(new.user_id, 'wallet.limits_changed',
    jsonb_build_object('currency', new.currency, 'min_balance', new.min_balance,
                       'daily_outgoing_max', new.daily_outgoing_max));
  return null;
end $$;
