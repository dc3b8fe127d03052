-- Finishes the transfer's record: moves it to its final state once, in the same transaction as the
-- leg that decides it. A repeat with the same status is a no-op; a record already final in another
-- status raises WL409, rolling back the caller's leg.
create or replace function finish_transfer(p_transfer_id text, p_status text, p_reason text)
returns text
language plpgsql
as $$
declare
  v_status text;
begin
  update transfers
     set status = p_status, failure_reason = p_reason, updated_at = now(), completed_at = now()
   where transfer_id = p_transfer_id and status in ('PENDING', 'PENDING_REVIEW')
  returning status into v_status;
  if v_status is null then
    select status into v_status from transfers where transfer_id = p_transfer_id;
  end if;
  if v_status is null then
    raise exception 'transfer record % is missing', p_transfer_id using errcode = 'no_data_found';
  end if;
  if v_status <> p_status then
    -- Already final in another state: the leg that asked must not commit either, or the
    -- ledger would disagree with the record. The caller reports it; nothing moved.
    raise exception 'transfer % is already %, not %', p_transfer_id, v_status, p_status
      using errcode = 'WL409';
  end if;
  return v_status;
end $$;
