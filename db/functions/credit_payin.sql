-- A credit the bank received for one of our virtual accounts becomes a deposit
-- (ledger/payins.ts): settlement -> the customer, the `credit` leg of posting 'pi_<trace number>',
-- so the entry's trace number is the key and a second attempt, a second delivery of the file or
-- the same entry in another file moves nothing (post_leg's postings key decides once).
--
-- Who takes it is decided here, in the leg's own transaction, with the user's row locked FOR
-- SHARE so a close cannot slip in between: a closed wallet refuses it (wallet_closed: the caller
-- returns the entry R02), an unknown user too (unknown_user: R03). A frozen wallet takes it, as a
-- bank's frozen account still receives: a freeze stops money leaving, and the money was the
-- customer's to send; only a legal block (OFAC, R16) would refuse, and the wallet has none.
-- A refusal is recorded as the leg's outcome, so a replay answers the same even if the wallet
-- changed since.
create or replace function credit_payin(
  p_trace_number text,
  p_user_id text,
  p_currency char(3),
  p_amount bigint,
  p_originator_name text,
  p_workflow_id text,
  p_run_id text)
returns table (outcome text, reason text, balance_after bigint, replayed boolean)
language plpgsql
as $$
declare
  v_open boolean;
  v_leg record;
  v_deposit payin_deposits;
begin
  if p_amount <= 0 then
    raise exception 'pay-in % of % %: amounts are positive', p_trace_number, p_amount, p_currency
      using errcode = 'check_violation';
  end if;
  select u.closed_at is null into v_open from users u where u.user_id = p_user_id for share;
  select * into strict v_leg
    from post_leg(p_transfer_id => 'pi_' || p_trace_number, p_leg => 'credit', p_user_id => p_user_id,
                  p_currency => p_currency, p_customer_delta => p_amount, p_counterparty => 'settlement',
                  p_entry_kind => 'deposit', p_ignore_holds => coalesce(v_open, false),
                  p_workflow_id => p_workflow_id, p_run_id => p_run_id, p_finish_if_posted => null,
                  p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                  p_daily_limit => null);
  if v_leg.outcome = 'posted' then
    insert into payin_deposits (posting_id, trace_number, user_id, currency, amount, originator_name)
    values ('pi_' || p_trace_number, p_trace_number, p_user_id, p_currency, p_amount, p_originator_name)
    on conflict (posting_id) do nothing;
    select * into strict v_deposit from payin_deposits d where d.posting_id = 'pi_' || p_trace_number;
    if (v_deposit.user_id, v_deposit.currency, v_deposit.amount) is distinct from (p_user_id, p_currency, p_amount) then
      raise exception 'pay-in % credited % % to %, not % % to %', p_trace_number, v_deposit.amount,
        v_deposit.currency, v_deposit.user_id, p_amount, p_currency, p_user_id using errcode = 'WL409';
    end if;
  end if;
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;
