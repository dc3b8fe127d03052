-- Decides a debit whose fate the workflow does not know (its attempts ran out, or an attempt
-- timed out and may still commit): voids it when it has not run, so it never can, and answers
-- what it is now. A voided debit ends the transfer FAILED (ledger_unavailable) here; a posted
-- one lets the transfer go on as if the debit had answered; a refused one was finished with
-- its reason by post_leg.
create or replace function fence_debit(
  p_transfer_id text,
  p_workflow_id text,
  p_run_id text,
  p_finish boolean
)
returns table (outcome text, reason text, balance_after bigint, transfer_status text)
language plpgsql
as $$
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
