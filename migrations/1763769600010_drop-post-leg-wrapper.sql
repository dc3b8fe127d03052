-- Up Migration

-- post_leg keeps one signature, the 15-argument one; its body lives in db/functions/post_leg.sql.
--
-- The 13-argument overload was a wrapper kept by 1763769600005 for workers older than
-- 1763769600003 during that rolling deploy. Nothing calls it any more: the wallet has passed all
-- 15 arguments since 1763769600003 and names them since this change (the SQL functions in
-- db/functions/ too), and every deploy since 1763769600005 (0006, 0008, 0009) replaced every
-- process, so no worker of that age can be running. The version before this one calls the
-- 15-argument post_leg by position, which is untouched, so old and new processes can serve side
-- by side during this rolling deploy. Were a forgotten caller of the 13 arguments left, it would
-- fail loudly (function does not exist) and move no money; it could not reach the wrong overload.
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean);

-- Down Migration
create function post_leg(
  p_transfer_id text, p_leg text, p_user_id text, p_currency char(3), p_customer_delta bigint, p_counterparty text,
  p_entry_kind text, p_ignore_holds boolean, p_workflow_id text, p_run_id text, p_finish_if_posted text,
  p_finish_reason_if_posted text, p_finish_if_refused boolean
)
returns table (outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
language sql as $$
  select * from post_leg(p_transfer_id, p_leg, p_user_id, p_currency, p_customer_delta, p_counterparty, p_entry_kind,
                         p_ignore_holds, p_workflow_id, p_run_id, p_finish_if_posted, p_finish_reason_if_posted,
                         p_finish_if_refused, false, null)
$$;
