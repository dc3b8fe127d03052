-- Each ledger leg in one round trip: one function call in autocommit is one statement and one
-- commit. The unique key (transfer_id, leg) of postings decides a leg's outcome once; a concurrent
-- attempt of the same leg waits on the customer row, then fails on the postings primary key
-- (unique_violation) and is rolled back whole, and its caller re-reads the outcome the first
-- attempt committed. The floor check is in the debiting UPDATE, and the deferred trigger checks
-- that the posting balances at commit.
--
-- A debit may not take the balance below the wallet's floor (unless p_allow_negative, a forced
-- reversal), may not pass the rolling 24-hour outgoing limit (p_daily_limit, the default, or the
-- wallet's own; null: no limit applies to this leg, as for credits, refunds and reversals), and a
-- closed wallet takes nothing in. p_ignore_holds lets refunds and reversals through frozen and
-- closed wallets: they return money to where it came from. A debit posts only while the transfer's
-- record is PENDING.
--
-- When the caller says so (p_finish_if_posted, p_finish_if_refused), the transfer's record (on
-- this shard when it is the owner's) is finished in the same transaction as the leg that decides it.
-- Each customer entry and each record change writes its wallet event (append_wallet_event) in
-- this same transaction, by trigger.
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
  p_daily_limit bigint
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language plpgsql
as $$
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
      -- The entry's event and the finished record's event may be two wallets' (a credit that
      -- completes the sender's transfer): both heads are locked in one order first (lock_wallet_event_heads).
      if p_finish_if_posted is not null then
        perform lock_wallet_event_heads(p_user_id, (select t.owner_user_id from transfers t where t.transfer_id = p_transfer_id));
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
