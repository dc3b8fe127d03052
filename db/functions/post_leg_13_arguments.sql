-- The 13-argument post_leg of 1763769600002, kept as a wrapper for workers of that version during
-- a rolling deploy (the debit guard of post_leg still holds for them).
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
  p_finish_if_refused boolean
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language sql
as $$
  select * from post_leg(p_transfer_id, p_leg, p_user_id, p_currency, p_customer_delta, p_counterparty, p_entry_kind,
                         p_ignore_holds, p_workflow_id, p_run_id, p_finish_if_posted, p_finish_reason_if_posted,
                         p_finish_if_refused, false, null)
$$;
