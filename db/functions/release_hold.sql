-- Gives a payout's hold back to the customer (canceled, or returned by the bank before
-- settlement): payouts_in_flight -> the wallet, as the `release` leg. It first fences the hold,
-- as refund_debit fences a debit: a hold that never ran is voided, so a late attempt cannot post
-- it, and there is nothing to give back. A hold already settled cannot be released (its money
-- left; return_settled brings it back): refused, nothing moves. Lands on frozen and closed
-- wallets too (the money goes back where it came from). A retry reads the first outcome.
create or replace function release_hold(p_payout_id text, p_workflow_id text, p_run_id text)
returns table (hold_outcome text, released boolean, balance_after bigint)
language plpgsql
as $$
declare
  v_hold_outcome text;
  v_hold payout_holds;
  v_leg record;
begin
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_payout_id, 'hold', 'voided', null, p_workflow_id, p_run_id)
  on conflict (transfer_id, leg) do nothing;
  select o.outcome into strict v_hold_outcome from leg_outcome(p_payout_id, 'hold') o;
  if v_hold_outcome <> 'posted' then
    return query select v_hold_outcome, false, null::bigint;
    return;
  end if;
  -- The hold's row lock orders this against a racing settle of the same payout.
  select * into strict v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if v_hold.status not in ('held', 'released') then
    raise exception 'payout % is %: its hold cannot be released', p_payout_id, v_hold.status using errcode = 'WL409';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'release', p_user_id => v_hold.user_id,
                  p_currency => v_hold.currency, p_customer_delta => v_hold.amount,
                  p_counterparty => 'payouts_in_flight', p_entry_kind => 'payout_release', p_ignore_holds => true,
                  p_workflow_id => p_workflow_id, p_run_id => p_run_id, p_finish_if_posted => null,
                  p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                  p_daily_limit => null);
  if v_leg.outcome <> 'posted' then
    raise exception 'release of % ended %; releases must post', p_payout_id, v_leg.outcome;
  end if;
  update payout_holds set status = 'released', updated_at = now() where payout_id = p_payout_id and status = 'held';
  return query select v_hold_outcome, true, v_leg.balance_after;
end $$;
