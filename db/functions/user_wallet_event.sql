-- Ops actions on a wallet, in the transaction that applies them (trigger users_wallet_event):
-- wallet.frozen, wallet.unfrozen, wallet.closed.
create or replace function user_wallet_event()
returns trigger
language plpgsql
as $$
begin
  if old.frozen is distinct from new.frozen then
    perform append_wallet_event(new.user_id, case when new.frozen then 'wallet.frozen' else 'wallet.unfrozen' end,
                                '{}'::jsonb);
  end if;
  if new.closed_at is not null and old.closed_at is null then
    perform append_wallet_event(new.user_id, 'wallet.closed', jsonb_build_object('closed_at', new.closed_at));
  end if;
  return null;
end $$;
