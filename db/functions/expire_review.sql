-- A held transfer nobody decided on in time fails; only while it is still held.
create or replace function expire_review(p_transfer_id text)
returns text
language plpgsql
as $$
declare
  v_status text;
  v_reason text;
begin
  select status, failure_reason into v_status, v_reason from transfers where transfer_id = p_transfer_id for update;
  if v_status = 'PENDING_REVIEW' then
    return finish_transfer(p_transfer_id, 'FAILED', 'review_timeout');
  end if;
  if v_status = 'FAILED' and v_reason = 'review_timeout' then
    return v_status;
  end if;
  raise exception 'transfer % is %, not held for review: its review cannot expire', p_transfer_id, v_status using errcode = 'WL409';
end $$;
