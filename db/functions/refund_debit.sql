-- Compensation in one round trip, after a refused credit: fences the debit (fence_debit: a debit
-- that never ran is voided), returns the money as a refund posting when the debit did post (even
-- to a frozen or closed wallet), and finishes the owner's record as FAILED with the given reason.
create or replace function refund_debit(
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
language plpgsql
as $$
declare
  v_debit text;
  v_refund record;
  v_status text;
begin
  select f.outcome into strict v_debit
    from fence_debit(p_transfer_id => p_transfer_id, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                     p_finish => false) f;
  if v_debit = 'posted' then
    select * into v_refund
      from post_leg(p_transfer_id => p_transfer_id, p_leg => 'refund', p_user_id => p_user_id, p_currency => p_currency,
                    p_customer_delta => p_amount, p_counterparty => p_counterparty, p_entry_kind => 'refund',
                    p_ignore_holds => true, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                    p_finish_if_posted => case when p_finish then 'FAILED' end,
                    p_finish_reason_if_posted => p_failure_reason, p_finish_if_refused => false,
                    p_allow_negative => false, p_daily_limit => null);
    if v_refund.outcome <> 'posted' then
      raise exception 'refund of % ended %; refunds must post', p_transfer_id, v_refund.outcome;
    end if;
    v_status := v_refund.transfer_status;
  elsif p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', p_failure_reason);
  end if;
  return query select v_debit, v_debit = 'posted', v_status;
end $$;
