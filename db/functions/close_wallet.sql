-- Closes a wallet at zero balance, once its own transfers are final (a transfer still moving or
-- held could refund money into the closed wallet), and audits it.
create or replace function close_wallet(p_user_id text, p_operator text, p_reason text)
returns table (outcome text, closed_at timestamp with time zone)
language plpgsql
as $$
declare
  v_user record;
begin
  select u.closed_at into v_user from users u where u.user_id = p_user_id for update;
  if not found then
    return query select 'unknown_user'::text, null::timestamptz;
    return;
  end if;
  if v_user.closed_at is not null then
    return query select 'closed'::text, v_user.closed_at;
    return;
  end if;
  if exists (select 1 from accounts a where a.user_id = p_user_id and a.balance <> 0) then
    return query select 'balance_not_zero'::text, null::timestamptz;
    return;
  end if;
  -- Its own transfers still moving (or held) could refund money into the closed wallet.
  if exists (select 1 from transfers t where t.owner_user_id = p_user_id and t.status in ('PENDING', 'PENDING_REVIEW')) then
    return query select 'transfers_in_flight'::text, null::timestamptz;
    return;
  end if;
  update users set closed_at = now() where user_id = p_user_id;
  insert into ops_audit (operator, action, target_type, target_id, reason, via)
  values (p_operator, 'close', 'user', p_user_id, p_reason, 'http');
  return query select 'closed'::text, now();
end $$;
