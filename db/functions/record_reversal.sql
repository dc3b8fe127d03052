-- Ends a completed transfer as REVERSED, with who, why and when, and audits it; once.
create or replace function record_reversal(
  p_transfer_id text,
  p_operator text,
  p_reason text,
  p_forced boolean,
  p_via text
)
returns text
language plpgsql
as $$
declare
  v_status text;
begin
  update transfers
     set status = 'REVERSED', reversed_at = now(), reversed_by = p_operator, reversal_reason = p_reason,
         reversal_forced = p_forced, updated_at = now()
   where transfer_id = p_transfer_id and status = 'COMPLETED'
  returning status into v_status;
  if v_status is null then
    select status into v_status from transfers where transfer_id = p_transfer_id;
    if v_status is distinct from 'REVERSED' then
      raise exception 'transfer % is %, not COMPLETED: it cannot be reversed', p_transfer_id, v_status using errcode = 'WL409';
    end if;
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, details, dedupe_key)
  values (p_operator, 'reverse', 'transfer', p_transfer_id, p_reason, p_via, jsonb_build_object('allow_negative', p_forced),
          p_transfer_id || ':reverse')
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;
