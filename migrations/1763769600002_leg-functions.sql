-- Up Migration

-- Each ledger leg in one round trip. A leg used to take about nine statements (begin, read the
-- outcome, lock the user, open accounts, two balance updates, the posting, the entries, commit);
-- as one function call in autocommit it is one statement and one commit, with the same rules:
-- the unique key (transfer_id, leg) of postings decides a leg's outcome once, the overdraft check
-- is in the debiting UPDATE, and the deferred trigger checks the posting balances at commit.
--
-- A concurrent attempt of the same leg waits on the customer row, then fails on the postings
-- primary key (unique_violation) and is rolled back whole; the caller re-reads the outcome the
-- first attempt committed.
--
-- When the caller says so, the transfer's durable record (on this shard when it is the owner's)
-- becomes final in the same transaction as the leg that decides it, instead of in a later trip.

create function leg_outcome(p_transfer_id text, p_leg text)
returns table (outcome text, reason text, balance_after bigint)
language sql stable as $$
  select p.outcome, p.reason,
         (select e.balance_after from entries e
           where e.transfer_id = p.transfer_id and e.leg = p.leg and e.account_id like 'customer:%')
    from postings p
   where p.transfer_id = p_transfer_id and p.leg = p_leg
$$;

-- Moves the owner's record to its final state once; a repeat with the same status is a no-op.
-- A record already final in another status raises WL409, rolling back the caller's leg.
create function finish_transfer(p_transfer_id text, p_status text, p_reason text)
returns text
language plpgsql as $$
declare
  v_status text;
begin
  update transfers
     set status = p_status, failure_reason = p_reason, updated_at = now(), completed_at = now()
   where transfer_id = p_transfer_id and status in ('PENDING', 'PENDING_REVIEW')
  returning status into v_status;
  if v_status is null then
    select status into v_status from transfers where transfer_id = p_transfer_id;
  end if;
  if v_status is null then
    raise exception 'transfer record % is missing', p_transfer_id using errcode = 'no_data_found';
  end if;
  if v_status <> p_status then
    -- Already final in another state: the leg that asked must not commit either, or the
    -- ledger would disagree with the record. The caller reports it; nothing moved.
    raise exception 'transfer % is already %, not %', p_transfer_id, v_status, p_status
      using errcode = 'WL409';
  end if;
  return v_status;
end $$;

create function post_leg(
  p_transfer_id text,
  p_leg text,
  p_user_id text,
  p_currency char(3),
  p_customer_delta bigint,
  p_counterparty text,
  p_entry_kind text,
  p_ignore_freeze boolean,
  p_workflow_id text,
  p_run_id text,
  -- null, or the final status the owner's record takes when this leg posts
  p_finish_if_posted text,
  p_finish_reason_if_posted text,
  -- true when a refusal of this leg ends the transfer (FAILED with the refusal's reason)
  p_finish_if_refused boolean
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language plpgsql as $$
declare
  v_customer_id text := 'customer:' || p_user_id || ':' || p_currency;
  v_system_id text := p_counterparty || ':' || p_currency;
  v_frozen boolean;
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
    -- FOR SHARE: a concurrent freeze waits for this posting to commit, and vice versa.
    select u.frozen into v_frozen from users u where u.user_id = p_user_id for share;
    if not found then
      v_outcome := 'refused'; v_reason := 'unknown_user';
    elsif v_frozen and not p_ignore_freeze then
      v_outcome := 'refused'; v_reason := 'user_frozen';
    else
      update accounts set balance = balance + p_customer_delta, updated_at = now()
       where account_id = v_customer_id and balance + p_customer_delta >= 0
      returning balance into v_balance;
      if v_balance is null and p_customer_delta > 0 then
        -- Wallets open on their first credit.
        insert into accounts (account_id, kind, user_id, currency)
        values (v_customer_id, 'customer', p_user_id, p_currency) on conflict do nothing;
        update accounts set balance = balance + p_customer_delta, updated_at = now()
         where account_id = v_customer_id
        returning balance into v_balance;
      end if;
      if v_balance is null then
        v_outcome := 'refused'; v_reason := 'insufficient_funds';
      else
        v_outcome := 'posted';
      end if;
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

-- Compensation in one round trip, after a refused credit: fences the debit (fence_debit, below:
-- a debit that never ran is voided), returns the money as a refund posting when the debit did
-- post, and finishes the owner's record as FAILED with the given reason.
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
                                          p_workflow_id, p_run_id, case when p_finish then 'FAILED' end, p_failure_reason, false);
    if v_refund.outcome <> 'posted' then
      raise exception 'refund of % ended %; refunds must post', p_transfer_id, v_refund.outcome;
    end if;
    v_status := v_refund.transfer_status;
  elsif p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', p_failure_reason);
  end if;
  return query select v_debit, v_debit = 'posted', v_status;
end $$;

-- Decides a debit whose fate the workflow does not know (its attempts ran out, or an attempt
-- timed out and may still commit): voids it when it has not run, so it never can, and answers
-- what it is now. A voided debit ends the transfer FAILED (ledger_unavailable) here; a posted
-- one lets the transfer go on as if the debit had answered; a refused one was finished with
-- its reason by post_leg.
create function fence_debit(p_transfer_id text, p_workflow_id text, p_run_id text, p_finish boolean)
returns table (outcome text, reason text, balance_after bigint, transfer_status text)
language plpgsql as $$
declare
  v_outcome record;
  v_status text;
begin
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_transfer_id, 'debit', 'voided', null, p_workflow_id, p_run_id)
  on conflict (transfer_id, leg) do nothing;
  select * into strict v_outcome from leg_outcome(p_transfer_id, 'debit');
  if v_outcome.outcome = 'voided' and p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', 'ledger_unavailable');
  end if;
  return query select v_outcome.outcome, v_outcome.reason, v_outcome.balance_after, v_status;
end $$;

-- Down Migration
drop function fence_debit(text, text, text, boolean);
drop function refund_debit(text, text, char, bigint, text, text, text, text, boolean);
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean);
drop function finish_transfer(text, text, text);
drop function leg_outcome(text, text);
