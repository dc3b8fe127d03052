-- Up Migration

-- Operations: reversals, review holds, limits, per-wallet rules, closing wallets, and the
-- append-only audit of every ops action.

-- Reversals are legs of their own, keyed like the others: (transfer_id, 'reversal_debit') takes
-- the money back from the recipient, (transfer_id, 'reversal_credit') returns it to the sender.
alter table postings drop constraint postings_leg_check;
alter table postings add constraint postings_leg_check
  check (leg in ('debit', 'credit', 'refund', 'reversal_debit', 'reversal_credit'));
alter table entries drop constraint entries_kind_check;
alter table entries add constraint entries_kind_check
  check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'reversal_out', 'reversal_in', 'clearing', 'settlement'));

-- Per-wallet rules set by ops. min_balance is the floor a debit may not take the balance below:
-- positive keeps a minimum, negative is an overdraft allowance. daily_outgoing_max replaces the
-- wallet-wide default 24-hour outgoing limit for this wallet (null: the default applies).
alter table accounts add column min_balance bigint not null default 0;
alter table accounts add column daily_outgoing_max bigint check (daily_outgoing_max > 0);
-- The floor replaces "never negative": a balance below zero now needs an overdraft allowance
-- or a reversal an operator forced (allow_negative), and every debit's UPDATE still guards it.
-- The database keeps the weaker rule it can check on the row alone: no balance below the floor
-- unless an override put it there (negative_override), which only a forced reversal sets.
alter table accounts add column negative_override boolean not null default false;
alter table accounts drop constraint accounts_check1;
alter table accounts add constraint accounts_customer_floor
  check (kind <> 'customer' or negative_override or balance >= least(min_balance, 0));

-- A closed wallet takes no new money; it can only be closed at zero balance.
alter table users add column closed_at timestamptz;

-- What happened to a transfer after it completed, on its record.
alter table transfers add column reversed_at timestamptz;
alter table transfers add column reversed_by text;
alter table transfers add column reversal_reason text check (char_length(reversal_reason) <= 500);
alter table transfers add column reversal_forced boolean;
-- The last refused reversal attempt (the recipient could not cover it), for ops to see.
alter table transfers add column reversal_refused_reason text;

-- Held for review, a record is PENDING_REVIEW: the orphan sweeper must find those too.
drop index transfers_pending;
create index transfers_pending on transfers (transfer_id) where status in ('PENDING', 'PENDING_REVIEW');

-- The rolling 24-hour outgoing limit sums a wallet's recent outgoing entries under the wallet's
-- row lock; this keeps that sum an index range scan.
create index entries_outgoing_recent on entries (account_id, created_at) include (amount, kind)
  where kind in ('transfer_out', 'withdrawal', 'refund');

-- Every ops action, whoever and wherever it came from (HTTP with an ops token, or a signal from
-- the Web UI or CLI, which names its operator). Append-only, like the ledger. Rows are kept on
-- the shard of the action's target (the user's, or the transfer owner's), in the same
-- transaction as the action where the action is a database change.
create table ops_audit (
  audit_id    bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  operator    text not null check (char_length(operator) between 1 and 128),
  action      text not null check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse',
                                              'reverse_refused', 'approve', 'reject', 'limit_change', 'close')),
  target_type text not null check (target_type in ('user', 'transfer')),
  target_id   text not null,
  reason      text check (char_length(reason) <= 500),
  via         text not null check (via in ('http', 'signal', 'update')),
  details     jsonb not null default '{}',
  -- Actions written by workflow activities carry a key, so a retried activity writes them once.
  dedupe_key  text unique
);
create index ops_audit_newest on ops_audit (occurred_at desc, audit_id desc);
create index ops_audit_target on ops_audit (target_id, occurred_at desc);
create trigger ops_audit_append_only before update or delete on ops_audit
  for each row execute function refuse_ledger_rewrite();
create trigger ops_audit_no_truncate before truncate on ops_audit
  for each statement execute function refuse_ledger_rewrite();

-- Only transfers and withdrawals count; a refund returns what a debit took. Reversals of the
-- wallet's own outgoing transfers are not subtracted: the limit stays conservative.
create function outgoing_last_day(p_account_id text) returns bigint
language sql stable as $$
  -- Outgoing entries are negative and refunds positive, so one sum nets them.
  select coalesce(sum(-amount), 0)::bigint
    from entries
   where account_id = p_account_id
     and kind in ('transfer_out', 'withdrawal', 'refund')
     and created_at > now() - interval '24 hours'
$$;

drop function refund_debit(text, text, char, bigint, text, text, text, text, boolean);
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean);

-- As before (see 1763769600002), with the account rules: a debit may not take the balance
-- below the wallet's floor (unless p_allow_negative, a forced reversal), may not pass the
-- rolling 24-hour outgoing limit (p_daily_limit, the default, or the wallet's own), and a closed
-- wallet takes nothing in. p_ignore_holds lets refunds and reversals through frozen and closed
-- wallets: they return money to where it came from.
create function post_leg(
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
begin
  select o.outcome, o.reason, o.balance_after into v_outcome, v_reason, v_balance
    from leg_outcome(p_transfer_id, p_leg) o;
  if found then
    v_replayed := true;
  else
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

-- As before, calling the new post_leg: a refund lands even on a frozen or closed wallet.
create function refund_debit(
  p_transfer_id text,
  p_user_id text,
  p_currency char(3),
  p_amount bigint,
  p_counterparty text,
  p_workflow_id text,
  p_run_id text,
  p_failure_reason text,
  p_finish boolean
)
returns table (debit_outcome text, refunded boolean, transfer_status text)
language plpgsql as $$
declare
  v_debit text;
  v_refund record;
  v_status text;
begin
  select f.outcome into strict v_debit from fence_debit(p_transfer_id, p_workflow_id, p_run_id, false) f;
  if v_debit = 'posted' then
    select * into v_refund from post_leg(p_transfer_id, 'refund', p_user_id, p_currency, p_amount, p_counterparty, 'refund', true,
                                          p_workflow_id, p_run_id, case when p_finish then 'FAILED' end, p_failure_reason, false,
                                          false, null);
    if v_refund.outcome <> 'posted' then
      raise exception 'refund of % ended %; refunds must post', p_transfer_id, v_refund.outcome;
    end if;
    v_status := v_refund.transfer_status;
  elsif p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', p_failure_reason);
  end if;
  return query select v_debit, v_debit = 'posted', v_status;
end $$;

-- The first leg of a reversal, on the recipient's shard: takes the money back. A recipient who
-- cannot cover it (they spent the money) is refused without writing the posting, so the leg's
-- key stays free for a later attempt with the override; with p_allow_negative it always posts.
create function post_reversal_debit(
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
  v_balance bigint;
  v_leg record;
begin
  if not exists (select 1 from postings p where p.transfer_id = p_transfer_id and p.leg = 'reversal_debit') and not p_allow_negative then
    -- Locked until commit: the covering check and the debit below see the same balance.
    select a.balance - a.min_balance into v_balance from accounts a where a.account_id = v_customer_id for update;
    if coalesce(v_balance, 0) < p_amount then
      return query select 'refused'::text, 'insufficient_funds'::text, null::bigint, false;
      return;
    end if;
  end if;
  select * into v_leg from post_leg(p_transfer_id, 'reversal_debit', p_user_id, p_currency, -p_amount, p_counterparty, 'reversal_out',
                                     true, p_workflow_id, p_run_id, null, null, false, true, null);
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;

-- Ends a completed transfer as REVERSED, with who, why and when, and audits it; once.
create function record_reversal(
  p_transfer_id text,
  p_operator text,
  p_reason text,
  p_forced boolean,
  p_via text
)
returns text
language plpgsql as $$
declare
  v_status text;
begin
  update transfers
     set status = 'REVERSED', reversed_at = now(), reversed_by = p_operator, reversal_reason = p_reason,
         reversal_forced = p_forced, updated_at = now()
   where transfer_id = p_transfer_id and status = 'COMPLETED'
  returning status into v_status;
  if v_status is null then
    select status into v_status from transfers where transfer_id = p_transfer_id;
    if v_status is distinct from 'REVERSED' then
      raise exception 'transfer % is %, not COMPLETED: it cannot be reversed', p_transfer_id, v_status using errcode = 'WL409';
    end if;
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, details, dedupe_key)
  values (p_operator, 'reverse', 'transfer', p_transfer_id, p_reason, p_via, jsonb_build_object('allow_negative', p_forced),
          p_transfer_id || ':reverse')
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;

-- A review decision on a held transfer, audited in the same transaction. The last approval
-- releases the record to PENDING (the money moves next); a rejection ends it FAILED.
create function record_review_decision(
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
begin
  if p_decision = 'reject' then
    v_status := finish_transfer(p_transfer_id, 'FAILED', 'review_rejected');
  elsif p_releases then
    update transfers set status = 'PENDING', updated_at = now()
     where transfer_id = p_transfer_id and status = 'PENDING_REVIEW';
    select status into v_status from transfers where transfer_id = p_transfer_id;
  else
    select status into v_status from transfers where transfer_id = p_transfer_id;
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, dedupe_key)
  values (p_operator, p_decision, 'transfer', p_transfer_id, p_reason, p_via, p_dedupe_key)
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;

-- Closes a wallet, only when every balance of the user is zero; the user's row lock keeps
-- postings (which take it FOR SHARE) out while the balances are checked.
create function close_wallet(p_user_id text, p_operator text, p_reason text)
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
  update users set closed_at = now() where user_id = p_user_id;
  insert into ops_audit (operator, action, target_type, target_id, reason, via)
  values (p_operator, 'close', 'user', p_user_id, p_reason, 'http');
  return query select 'closed'::text, now();
end $$;

-- Down Migration
-- Restores the tables' shape; post_leg and refund_debit then need 1763769600002's definitions again.
drop function record_review_decision(text, text, text, text, text, boolean, text);
drop function close_wallet(text, text, text);
drop function record_reversal(text, text, text, boolean, text);
drop function post_reversal_debit(text, text, char, bigint, text, boolean, text, text);
drop function refund_debit(text, text, char, bigint, text, text, text, text, boolean);
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean, boolean, bigint);
drop function outgoing_last_day(text);
drop table ops_audit;
drop index entries_outgoing_recent;
drop index transfers_pending;
create index transfers_pending on transfers (transfer_id) where status = 'PENDING';
alter table transfers drop column reversal_refused_reason, drop column reversal_forced, drop column reversal_reason,
  drop column reversed_by, drop column reversed_at;
alter table users drop column closed_at;
alter table accounts drop constraint accounts_customer_floor;
alter table accounts drop column negative_override, drop column daily_outgoing_max, drop column min_balance;
alter table accounts add constraint accounts_check1 check (kind <> 'customer' or balance >= 0);
