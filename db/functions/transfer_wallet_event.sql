-- A transfer's (or deposit's, or withdrawal's) record changing state, as an event of its owner's
-- wallet, in the transaction that changes it (triggers transfers_wallet_event_*):
--   inserted                        transfer.created (and transfer.held_for_review when held)
--   PENDING_REVIEW -> PENDING       transfer.approved
--   -> COMPLETED                    transfer.completed
--   -> FAILED (review_rejected)     transfer.rejected
--   -> FAILED (any other reason)    transfer.failed
--   -> REVERSED                     transfer.reversed
--   reversal_refused_reason set     transfer.reversal_refused
create or replace function transfer_wallet_event()
returns trigger
language plpgsql
as $$
declare
  v_data jsonb := jsonb_build_object(
    'transfer_id', new.transfer_id, 'kind', new.kind, 'status', new.status, 'from_user_id', new.from_user_id,
    'to_user_id', new.to_user_id, 'currency', new.currency, 'amount', new.amount);
begin
  if tg_op = 'INSERT' then
    perform append_wallet_event(new.owner_user_id, 'transfer.created', v_data);
    if new.status = 'PENDING_REVIEW' then
      perform append_wallet_event(new.owner_user_id, 'transfer.held_for_review', v_data);
    end if;
    return null;
  end if;
  if old.status is distinct from new.status then
    perform append_wallet_event(new.owner_user_id,
      case
        when new.status = 'PENDING' and old.status = 'PENDING_REVIEW' then 'transfer.approved'
        when new.status = 'PENDING_REVIEW' then 'transfer.held_for_review'
        when new.status = 'COMPLETED' then 'transfer.completed'
        when new.status = 'FAILED' and new.failure_reason = 'review_rejected' then 'transfer.rejected'
        when new.status = 'FAILED' then 'transfer.failed'
        when new.status = 'REVERSED' then 'transfer.reversed'
        else 'transfer.status_changed'
      end,
      v_data || case
        when new.status = 'FAILED' then jsonb_build_object('failure_reason', new.failure_reason)
        when new.status = 'REVERSED' then jsonb_build_object('reversal_forced', new.reversal_forced)
        else '{}'::jsonb
      end);
  end if;
  if new.reversal_refused_reason is not null and old.reversal_refused_reason is distinct from new.reversal_refused_reason then
    perform append_wallet_event(new.owner_user_id, 'transfer.reversal_refused',
      v_data || jsonb_build_object('refusal', new.reversal_refused_reason));
  end if;
  return null;
end $$;
