-- Review decisions apply only to a held record. Repeating the decision that already applied is
-- a no-op; anything else raises WL409 and records nothing. A release cannot revive a FAILED one.
create or replace function record_review_decision(
  p_transfer_id text,
  p_decision text,
  p_operator text,
  p_reason text,
  p_via text,
  p_releases boolean,
  p_dedupe_key text
)
returns text
language plpgsql
as $$
declare
  v_status text;
  v_reason text;
begin
  select status, failure_reason into v_status, v_reason from transfers where transfer_id = p_transfer_id for update;
  if v_status is null then
    raise exception 'transfer record % is missing', p_transfer_id using errcode = 'no_data_found';
  end if;
  if p_decision = 'reject' then
    if v_status = 'PENDING_REVIEW' then
      v_status := finish_transfer(p_transfer_id, 'FAILED', 'review_rejected');
    elsif not (v_status = 'FAILED' and v_reason = 'review_rejected') then
      raise exception 'transfer % is %, not held for review: it cannot be rejected', p_transfer_id, v_status using errcode = 'WL409';
    end if;
  elsif v_status = 'PENDING_REVIEW' then
    if p_releases then
      update transfers set status = 'PENDING', updated_at = now() where transfer_id = p_transfer_id;
      v_status := 'PENDING';
    end if;
  elsif not (p_releases and v_status = 'PENDING') then
    raise exception 'transfer % is %, not held for review: it cannot be approved', p_transfer_id, v_status using errcode = 'WL409';
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, dedupe_key)
  values (p_operator, p_decision, 'transfer', p_transfer_id, p_reason, p_via, p_dedupe_key)
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;
