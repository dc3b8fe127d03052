-- Appends one event to a wallet's outbox (migration 1763769600110, docs/events.md), in the
-- caller's transaction: the change and its event commit or roll back together. The sequence
-- number comes from the wallet's head row, locked here until commit, so a wallet's numbers are
-- gap-free and a later number never commits before an earlier one. Every event type is at
-- schema version 1; a type whose data changes shape gets a new version, documented beside it.
--
-- The head is moved by a plain update first: every event but a wallet's first finds its head,
-- and the update is a single (HOT) row version where the upsert's speculative insert probed the
-- index and took a speculative lock first. Only a wallet's first event falls through to the
-- upsert, which also settles a race between two first events.
create or replace function append_wallet_event(p_user_id text, p_type text, p_data jsonb)
returns bigint
language plpgsql
as $$
declare
  v_sequence bigint;
begin
  update wallet_event_heads set last_sequence = last_sequence + 1
  where user_id = p_user_id
  returning last_sequence into v_sequence;
  if v_sequence is null then
    insert into wallet_event_heads as h (user_id, last_sequence)
    values (p_user_id, 1)
    on conflict (user_id) do update set last_sequence = h.last_sequence + 1
    returning h.last_sequence into v_sequence;
  end if;
  insert into wallet_events (user_id, sequence, type, schema_version, data)
  values (p_user_id, v_sequence, p_type, 1, p_data);
  return v_sequence;
end $$;
