-- A payout's money leaves with the bank: payouts_in_flight -> the shard's settlement account, as
-- the `settle` leg (the same direction as a withdrawal's system side). Only a hold that posted
-- and was not released settles; it moves exactly the held amount. The customer's wallet is not
-- touched: the hold already took the money from it. A retry reads the first outcome.
create or replace function settle_hold(p_payout_id text, p_workflow_id text, p_run_id text)
returns table (outcome text, replayed boolean)
language plpgsql
as $$
declare
  v_hold payout_holds;
  v_in_flight_id text;
  v_settlement_id text;
  v_in_flight_balance bigint;
  v_settlement_balance bigint;
begin
  select * into v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if not found then
    raise exception 'payout % holds nothing: it cannot settle', p_payout_id using errcode = 'WL409';
  end if;
  if v_hold.status in ('settled', 'returned') then
    return query select 'posted'::text, true;
    return;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'payout % is %: it cannot settle', p_payout_id, v_hold.status using errcode = 'WL409';
  end if;
  v_in_flight_id := 'payouts_in_flight:' || v_hold.currency;
  v_settlement_id := 'settlement:' || v_hold.currency;
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_payout_id, 'settle', 'posted', null, p_workflow_id, p_run_id);
  update accounts set balance = balance - v_hold.amount, updated_at = now()
   where account_id = v_in_flight_id
  returning balance into strict v_in_flight_balance;
  insert into accounts (account_id, kind, user_id, currency)
  values (v_settlement_id, 'settlement', null, v_hold.currency) on conflict do nothing;
  update accounts set balance = balance + v_hold.amount, updated_at = now()
   where account_id = v_settlement_id
  returning balance into strict v_settlement_balance;
  insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
  values (p_payout_id, 'settle', v_in_flight_id, v_hold.currency, -v_hold.amount, v_in_flight_balance,
          'payouts_in_flight', p_workflow_id, p_run_id),
         (p_payout_id, 'settle', v_settlement_id, v_hold.currency, v_hold.amount, v_settlement_balance,
          'settlement', p_workflow_id, p_run_id);
  update payout_holds set status = 'settled', updated_at = now() where payout_id = p_payout_id;
  return query select 'posted'::text, false;
end $$;
