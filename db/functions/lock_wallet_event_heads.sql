-- Locks two wallets' event heads in user id order. A leg that also finishes its transfer's record
-- writes events for two wallets in one transaction (the recipient's credit, then the owner's
-- transfer.completed); two such legs in opposite directions would take the heads in opposite
-- orders and deadlock. post_leg takes both here first, before either event.
create or replace function lock_wallet_event_heads(p_user_id text, p_other_user_id text)
returns void
language sql
as $$
  insert into wallet_event_heads as h (user_id, last_sequence)
  select u, 0 from unnest(array[p_user_id, p_other_user_id]) u where u is not null group by u order by u
  on conflict (user_id) do update set last_sequence = h.last_sequence
$$;
