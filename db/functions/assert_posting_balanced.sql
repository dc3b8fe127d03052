-- Every posting balances on its own, per currency, checked when its transaction commits (the
-- deferred constraint trigger entries_balanced).
create or replace function assert_posting_balanced()
returns trigger
language plpgsql
as $$
declare
  imbalance bigint;
begin
  select coalesce(sum(amount), 0) into imbalance
    from entries
   where transfer_id = new.transfer_id and leg = new.leg and currency = new.currency;
  if imbalance <> 0 then
    raise exception 'posting %/% is unbalanced by % %', new.transfer_id, new.leg, imbalance, new.currency
      using errcode = 'check_violation';
  end if;
  return null;
end $$;
