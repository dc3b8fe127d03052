-- What a leg's first attempt decided, with the customer's balance after it; no row while the leg
-- never ran. The unique key (transfer_id, leg) of postings makes that decision once.
create or replace function leg_outcome(p_transfer_id text, p_leg text)
returns table (outcome text, reason text, balance_after bigint)
language sql stable
as $$
  select p.outcome, p.reason,
         (select e.balance_after from entries e
           where e.transfer_id = p.transfer_id and e.leg = p.leg and e.account_id like 'customer:%')
    from postings p
   where p.transfer_id = p_transfer_id and p.leg = p_leg
$$;
