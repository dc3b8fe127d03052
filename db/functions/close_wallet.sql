-- Closes a wallet at zero balance, once no money can move into or out of it any more, and audits
-- it. Refused while:
--   * its own transfers are still moving, held for review, or waiting for an operator (a refund
--     would land in the closed wallet), or a payout of its own still holds money (its release
--     would): transfers_in_flight;
--   * a completed transfer into or out of it can still be reversed (p_reversal_window_ms after it
--     completed): a reversal credit would leave money in a wallet nothing can take it out of, and
--     a forced reversal debit a negative balance that can never be repaid: reversal_window_open,
--     with open_until, when the last such window ends.
-- Incoming transfers whose record lives on another shard are seen by their credit entry here.
-- The user's row lock keeps postings to the wallet out meanwhile.
create or replace function close_wallet(p_user_id text, p_operator text, p_reason text, p_reversal_window_ms bigint)
returns table (outcome text, closed_at timestamp with time zone, open_until timestamp with time zone)
language plpgsql
as $$
declare
  -- A record in one of these is not final: its money may still move (a new such status is one more entry here).
  v_open_statuses constant text[] := array['PENDING', 'PENDING_REVIEW'];
  v_window constant interval := make_interval(secs => greatest(p_reversal_window_ms, 0) / 1000.0);
  v_user record;
  v_open_until timestamptz;
begin
  select u.closed_at into v_user from users u where u.user_id = p_user_id for update;
  if not found then
    return query select 'unknown_user'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  if v_user.closed_at is not null then
    return query select 'closed'::text, v_user.closed_at, null::timestamptz;
    return;
  end if;
  if exists (select 1 from accounts a where a.user_id = p_user_id and a.balance <> 0) then
    return query select 'balance_not_zero'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  if exists (select 1 from transfers t where t.owner_user_id = p_user_id and t.status = any (v_open_statuses))
     or exists (select 1 from payout_holds h where h.user_id = p_user_id and h.status = 'held') then
    return query select 'transfers_in_flight'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  select max(window_end) into v_open_until from (
    -- Its own transfers (sent, deposited, withdrawn): a reversal moves money back into or out of it.
    select t.completed_at + v_window as window_end
      from transfers t
     where t.owner_user_id = p_user_id and t.status = 'COMPLETED' and t.completed_at + v_window > now()
    union all
    -- Transfers into it, from any shard, not reversed yet: a reversal debits it.
    select coalesce(e.posted_at, e.created_at) + v_window
      from accounts a
      join entries e on e.account_id = a.account_id
     where a.user_id = p_user_id and e.leg = 'credit'
       and coalesce(e.posted_at, e.created_at) > now() - v_window
       and not exists (select 1 from postings p
                        where p.transfer_id = e.transfer_id and p.leg = 'reversal_debit' and p.outcome = 'posted')
  ) open_windows;
  if v_open_until is not null then
    return query select 'reversal_window_open'::text, null::timestamptz, v_open_until;
    return;
  end if;
  update users set closed_at = now() where user_id = p_user_id;
  insert into ops_audit (operator, action, target_type, target_id, reason, via)
  values (p_operator, 'close', 'user', p_user_id, p_reason, 'http');
  return query select 'closed'::text, now(), null::timestamptz;
end $$;
