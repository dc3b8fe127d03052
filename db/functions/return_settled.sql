-- A bank return after the payout settled: settlement -> the customer's wallet, as the `return`
-- leg, the settled amount whole (ACH returns the entry, not part of it). Lands on frozen and
-- closed wallets too. Only a settled payout can be returned this way (before settlement,
-- release_hold gives the hold back). A retry reads the first outcome.
create or replace function return_settled(p_payout_id text, p_workflow_id text, p_run_id text)
returns table (outcome text, balance_after bigint, replayed boolean)
language plpgsql
as $$
declare
  v_hold payout_holds;
  v_leg record;
begin
  select * into v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if not found or v_hold.status not in ('settled', 'returned') then
    raise exception 'payout % is %: only a settled payout can be returned', p_payout_id,
      coalesce(v_hold.status, 'not held') using errcode = 'WL409';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'return', p_user_id => v_hold.user_id,
                  p_currency => v_hold.currency, p_customer_delta => v_hold.amount, p_counterparty => 'settlement',
                  p_entry_kind => 'payout_return', p_ignore_holds => true, p_workflow_id => p_workflow_id,
                  p_run_id => p_run_id, p_finish_if_posted => null, p_finish_reason_if_posted => null,
                  p_finish_if_refused => false, p_allow_negative => false, p_daily_limit => null);
  if v_leg.outcome <> 'posted' then
    raise exception 'return of % ended %; returns must post', p_payout_id, v_leg.outcome;
  end if;
  update payout_holds set status = 'returned', updated_at = now() where payout_id = p_payout_id and status = 'settled';
  return query select v_leg.outcome, v_leg.balance_after, v_leg.replayed;
end $$;
