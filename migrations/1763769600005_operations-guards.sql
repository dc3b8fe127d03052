-- Up Migration

-- Guards found in review of the operations change (1763769600003):
-- * a transfer's review requirement is fixed on its record when it is accepted, so a rerun (the
--   orphan sweeper, a client's retry, another worker's config) holds it exactly as before;
-- * a debit posts only while the record is PENDING (never while held for review, never after
--   it ended), whatever the workflow run believes;
-- * review decisions apply only to a record that is held; a release cannot revive a FAILED one;
-- * a reversal debit takes the wallet's lock before it looks at the leg's outcome, so a racing
--   attempt cannot answer "refused" after another attempt posted it;
-- * the 24-hour sum nets only refunds of debits inside the window;
-- * closing a wallet waits until its own transfers are final;
-- * the 13-argument post_leg of 1763769600002 comes back as a wrapper, for workers of the
--   previous version during a rolling deploy (the debit guard above still holds for them).

alter table transfers add column approvals_required smallint not null default 0 check (approvals_required between 0 and 2);
-- The ops operator who made the request, if one did: they may not approve it themselves.
alter table transfers add column initiated_by text;

create or replace function post_leg(
  p_transfer_id text,
  p_leg text,
  p_user_id text,
  p_currency char(3),
  p_customer_delta bigint,
  p_counterparty text,
  p_entry_kind text,
  p_ignore_holds boolean,
  p_workflow_id text,
  p_run_id text,
  p_finish_if_posted text,
  p_finish_reason_if_posted text,
  p_finish_if_refused boolean,
  p_allow_negative boolean,
  -- null: no 24-hour limit applies to this leg (credits, refunds, reversals)
  p_daily_limit bigint
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language plpgsql as $$
declare
  v_customer_id text := 'customer:' || p_user_id || ':' || p_currency;
  v_system_id text := p_counterparty || ':' || p_currency;
  v_user record;
  v_account record;
  v_limit bigint;
  v_outcome text;
  v_reason text;
  v_balance bigint;
  v_system_balance bigint;
  v_replayed boolean := false;
  v_status text;
  v_record_status text;
begin
  select o.outcome, o.reason, o.balance_after into v_outcome, v_reason, v_balance
    from leg_outcome(p_transfer_id, p_leg) o;
  if found then
    v_replayed := true;
  else
    -- A transfer's money leaves only while its record is PENDING: not while it is held for
    -- review, and never after it ended. The record is on the debit's shard (the sender owns it).
    -- Runs whose policy was computed wrongly (a rerun, a worker of another version, a config
    -- change) are stopped here rather than trusted.
    if p_leg = 'debit' then
      select t.status into v_record_status from transfers t where t.transfer_id = p_transfer_id for share;
      if found and v_record_status <> 'PENDING' then
        raise exception 'transfer % is %: its debit may not post', p_transfer_id, v_record_status using errcode = 'WL409';
      end if;
    end if;
    -- FOR SHARE: a concurrent freeze or close waits for this posting to commit, and vice versa.
    select u.frozen, u.closed_at into v_user from users u where u.user_id = p_user_id for share;
    if not found then
      v_outcome := 'refused'; v_reason := 'unknown_user';
    elsif v_user.closed_at is not null and not p_ignore_holds then
      v_outcome := 'refused'; v_reason := 'wallet_closed';
    elsif v_user.frozen and not p_ignore_holds then
      v_outcome := 'refused'; v_reason := 'user_frozen';
    elsif p_customer_delta < 0 then
      -- The wallet's row lock comes first: concurrent debits of one wallet queue here, and each
      -- one's limit sum (a later statement, so a fresh snapshot) sees the debits before it.
      select a.min_balance, a.daily_outgoing_max into v_account
        from accounts a where a.account_id = v_customer_id for update;
      if not found then
        v_outcome := 'refused'; v_reason := 'insufficient_funds';
      else
        v_limit := coalesce(v_account.daily_outgoing_max, p_daily_limit);
        if p_daily_limit is not null and v_limit is not null
           and outgoing_last_day(v_customer_id) - p_customer_delta > v_limit then
          v_outcome := 'refused'; v_reason := 'limit_exceeded';
        else
          update accounts
             set balance = balance + p_customer_delta, updated_at = now(),
                 negative_override = (negative_override or p_allow_negative) and balance + p_customer_delta < least(min_balance, 0)
           where account_id = v_customer_id and (p_allow_negative or balance + p_customer_delta >= min_balance)
          returning balance into v_balance;
          if v_balance is null then
            v_outcome := 'refused'; v_reason := 'insufficient_funds';
          else
            v_outcome := 'posted';
          end if;
        end if;
      end if;
    else
      update accounts set balance = balance + p_customer_delta, updated_at = now(),
                          negative_override = negative_override and balance + p_customer_delta < least(min_balance, 0)
       where account_id = v_customer_id
      returning balance into v_balance;
      if v_balance is null then
        -- Wallets open on their first credit.
        insert into accounts (account_id, kind, user_id, currency)
        values (v_customer_id, 'customer', p_user_id, p_currency) on conflict do nothing;
        update accounts set balance = balance + p_customer_delta, updated_at = now()
         where account_id = v_customer_id
        returning balance into v_balance;
      end if;
      v_outcome := 'posted';
    end if;

    -- The arbiter: a second attempt of this leg fails here and is rolled back whole.
    insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
    values (p_transfer_id, p_leg, v_outcome, v_reason, p_workflow_id, p_run_id);

    if v_outcome = 'posted' then
      -- The shard's system row is the one every posting touches: it is locked last, so it is
      -- held only from here to commit.
      update accounts set balance = balance - p_customer_delta, updated_at = now()
       where account_id = v_system_id
      returning balance into v_system_balance;
      if v_system_balance is null then
        insert into accounts (account_id, kind, user_id, currency)
        values (v_system_id, p_counterparty, null, p_currency) on conflict do nothing;
        update accounts set balance = balance - p_customer_delta, updated_at = now()
         where account_id = v_system_id
        returning balance into v_system_balance;
      end if;
      insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
      values (p_transfer_id, p_leg, v_customer_id, p_currency, p_customer_delta, v_balance, p_entry_kind, p_workflow_id, p_run_id),
             (p_transfer_id, p_leg, v_system_id, p_currency, -p_customer_delta, v_system_balance, p_counterparty, p_workflow_id, p_run_id);
    end if;
  end if;

  if v_outcome = 'posted' and p_finish_if_posted is not null then
    v_status := finish_transfer(p_transfer_id, p_finish_if_posted, p_finish_reason_if_posted);
  elsif v_outcome = 'refused' and p_finish_if_refused then
    v_status := finish_transfer(p_transfer_id, 'FAILED', v_reason);
  end if;
  return query select v_outcome, v_reason, v_balance, v_replayed, v_status;
end $$;

create function post_leg(
  p_transfer_id text, p_leg text, p_user_id text, p_currency char(3), p_customer_delta bigint, p_counterparty text,
  p_entry_kind text, p_ignore_holds boolean, p_workflow_id text, p_run_id text, p_finish_if_posted text,
  p_finish_reason_if_posted text, p_finish_if_refused boolean
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language sql as $$
  select * from post_leg(p_transfer_id, p_leg, p_user_id, p_currency, p_customer_delta, p_counterparty, p_entry_kind,
                         p_ignore_holds, p_workflow_id, p_run_id, p_finish_if_posted, p_finish_reason_if_posted,
                         p_finish_if_refused, false, null)
$$;

create or replace function outgoing_last_day(p_account_id text) returns bigint
language sql stable as $$
  select (select coalesce(sum(-d.amount), 0)
            from entries d
           where d.account_id = p_account_id and d.kind in ('transfer_out', 'withdrawal')
             and d.created_at > now() - interval '24 hours')
       - (select coalesce(sum(r.amount), 0)
            from entries r
            join entries d on d.transfer_id = r.transfer_id and d.leg = 'debit' and d.account_id = r.account_id
           where r.account_id = p_account_id and r.kind = 'refund'
             and r.created_at > now() - interval '24 hours' and d.created_at > now() - interval '24 hours')
$$;

create or replace function post_reversal_debit(
  p_transfer_id text,
  p_user_id text,
  p_currency char(3),
  p_amount bigint,
  p_counterparty text,
  p_allow_negative boolean,
  p_workflow_id text,
  p_run_id text
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean)
language plpgsql as $$
declare
  v_customer_id text := 'customer:' || p_user_id || ':' || p_currency;
  v_available bigint;
  v_leg record;
begin
  -- The lock first: a racing attempt waits here, then sees the posting the first one committed.
  select a.balance - a.min_balance into v_available from accounts a where a.account_id = v_customer_id for update;
  if not exists (select 1 from postings p where p.transfer_id = p_transfer_id and p.leg = 'reversal_debit')
     and not p_allow_negative and coalesce(v_available, 0) < p_amount then
    return query select 'refused'::text, 'insufficient_funds'::text, null::bigint, false;
    return;
  end if;
  select * into v_leg from post_leg(p_transfer_id, 'reversal_debit', p_user_id, p_currency, -p_amount, p_counterparty, 'reversal_out',
                                     true, p_workflow_id, p_run_id, null, null, false, true, null);
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;

-- Review decisions apply only to a held record. Repeating the decision that already applied is
-- a no-op; anything else raises WL409 and records nothing.
create or replace function record_review_decision(
  p_transfer_id text,
  p_decision text,
  p_operator text,
  p_reason text,
  p_via text,
  p_releases boolean,
  p_dedupe_key text
)
returns text
language plpgsql as $$
declare
  v_status text;
  v_reason text;
begin
  select status, failure_reason into v_status, v_reason from transfers where transfer_id = p_transfer_id for update;
  if v_status is null then
    raise exception 'transfer record % is missing', p_transfer_id using errcode = 'no_data_found';
  end if;
  if p_decision = 'reject' then
    if v_status = 'PENDING_REVIEW' then
      v_status := finish_transfer(p_transfer_id, 'FAILED', 'review_rejected');
    elsif not (v_status = 'FAILED' and v_reason = 'review_rejected') then
      raise exception 'transfer % is %, not held for review: it cannot be rejected', p_transfer_id, v_status using errcode = 'WL409';
    end if;
  elsif v_status = 'PENDING_REVIEW' then
    if p_releases then
      update transfers set status = 'PENDING', updated_at = now() where transfer_id = p_transfer_id;
      v_status := 'PENDING';
    end if;
  elsif not (p_releases and v_status = 'PENDING') then
    raise exception 'transfer % is %, not held for review: it cannot be approved', p_transfer_id, v_status using errcode = 'WL409';
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, dedupe_key)
  values (p_operator, p_decision, 'transfer', p_transfer_id, p_reason, p_via, p_dedupe_key)
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;

-- A held transfer nobody decided on in time fails; only while it is still held.
create function expire_review(p_transfer_id text) returns text
language plpgsql as $$
declare
  v_status text;
  v_reason text;
begin
  select status, failure_reason into v_status, v_reason from transfers where transfer_id = p_transfer_id for update;
  if v_status = 'PENDING_REVIEW' then
    return finish_transfer(p_transfer_id, 'FAILED', 'review_timeout');
  end if;
  if v_status = 'FAILED' and v_reason = 'review_timeout' then
    return v_status;
  end if;
  raise exception 'transfer % is %, not held for review: its review cannot expire', p_transfer_id, v_status using errcode = 'WL409';
end $$;

create or replace function close_wallet(p_user_id text, p_operator text, p_reason text)
returns table (outcome text, closed_at timestamptz)
language plpgsql as $$
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

-- Down Migration
drop function expire_review(text);
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean);
alter table transfers drop column initiated_by, drop column approvals_required;
