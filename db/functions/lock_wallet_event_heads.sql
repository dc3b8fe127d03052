-- Locks two wallets' event heads in user id order. A leg that also finishes its transfer's record
-- writes events for two wallets in one transaction (the recipient's credit, then the owner's
-- transfer.completed); two such legs in opposite directions would take the heads in opposite
-- orders and deadlock. post_leg takes both here first, before either event.
--
-- Where both heads exist, which is nearly always, a row lock (`for update`, in order) takes them
-- without writing a row version. Where one is missing (a wallet's first events), the upsert in
-- order creates it and locks both, as it did for every leg before.
create or replace function lock_wallet_event_heads(p_user_id text, p_other_user_id text)
returns void
language plpgsql
as $$
declare
  v_wanted text[] := array(select distinct u from unnest(array[p_user_id, p_other_user_id]) u where u is not null);
  v_locked int;
begin
  select count(*) into v_locked from (
    select 1 from wallet_event_heads where user_id = any(v_wanted) order by user_id for update
  ) heads;
  if v_locked < cardinality(v_wanted) then
    insert into wallet_event_heads as h (user_id, last_sequence)
    select u, 0 from unnest(v_wanted) u order by u
    on conflict (user_id) do update set last_sequence = h.last_sequence;
  end if;
end $$;
