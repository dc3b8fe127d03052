-- The first leg of a reversal, on the recipient's shard: takes the money back. A recipient who
-- cannot cover it (they spent the money) is refused without writing the posting, so the leg's
-- key stays free for a later attempt with the override; with p_allow_negative it always posts.
-- The wallet's lock comes before the look at the leg's outcome, so a racing attempt cannot
-- answer "refused" after another attempt posted it.
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
language plpgsql
as $$
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
  select * into v_leg
    from post_leg(p_transfer_id => p_transfer_id, p_leg => 'reversal_debit', p_user_id => p_user_id,
                  p_currency => p_currency, p_customer_delta => -p_amount, p_counterparty => p_counterparty,
                  p_entry_kind => 'reversal_out', p_ignore_holds => true, p_workflow_id => p_workflow_id,
                  p_run_id => p_run_id, p_finish_if_posted => null, p_finish_reason_if_posted => null,
                  p_finish_if_refused => false, p_allow_negative => true, p_daily_limit => null);
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;
