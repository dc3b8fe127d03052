-- A payout's hold (ledger/payout-holds.ts): its amount leaves the customer's wallet for the
-- shard's payouts_in_flight account at once, with every check a transfer's debit has (post_leg's
-- debit path: unknown user, closed or frozen wallet, the minimum balance, the rolling daily
-- limit). Keyed (payout_id, 'hold'): a retry reads the first outcome and moves nothing; a hold
-- fenced by release_hold (voided) never posts. The open hold is indexed in payout_holds, which
-- every later leg of the payout locks. A retry with another amount or wallet is a bug: refused.
create or replace function hold_payout(
  p_payout_id text,
  p_user_id text,
  p_currency char(3),
  p_amount bigint,
  p_daily_limit bigint,
  p_workflow_id text,
  p_run_id text)
returns table (outcome text, reason text, balance_after bigint, replayed boolean)
language plpgsql
as $$
declare
  v_leg record;
  v_hold payout_holds;
begin
  if p_amount <= 0 then
    raise exception 'hold % of % %: amounts are positive', p_payout_id, p_amount, p_currency using errcode = 'check_violation';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'hold', p_user_id => p_user_id, p_currency => p_currency,
                  p_customer_delta => -p_amount, p_counterparty => 'payouts_in_flight', p_entry_kind => 'payout_hold',
                  p_ignore_holds => false, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                  p_finish_if_posted => null, p_finish_reason_if_posted => null, p_finish_if_refused => false,
                  p_allow_negative => false, p_daily_limit => p_daily_limit);
  if v_leg.outcome = 'posted' then
    insert into payout_holds (payout_id, user_id, currency, amount)
    values (p_payout_id, p_user_id, p_currency, p_amount)
    on conflict (payout_id) do nothing;
    select * into strict v_hold from payout_holds h where h.payout_id = p_payout_id;
    if (v_hold.user_id, v_hold.currency, v_hold.amount) is distinct from (p_user_id, p_currency, p_amount) then
      raise exception 'payout % held % % of %, not % % of %', p_payout_id, v_hold.amount, v_hold.currency,
        v_hold.user_id, p_amount, p_currency, p_user_id using errcode = 'WL409';
    end if;
  end if;
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;
