-- A wallet's outgoing sum over the rolling 24 hours, for the daily limit: transfers,
-- withdrawals and payout holds, less the refunds of debits and the releases of holds inside the
-- window (a payout that settled, even one returned later, stays counted). Reversals of the wallet's own
-- outgoing transfers are not subtracted: the limit stays conservative.
create or replace function outgoing_last_day(p_account_id text)
returns bigint
language sql stable
as $$
  select (select coalesce(sum(-d.amount), 0)
            from entries d
           where d.account_id = p_account_id and d.kind in ('transfer_out', 'withdrawal', 'payout_hold')
             and d.created_at > now() - interval '24 hours')
       - (select coalesce(sum(r.amount), 0)
            from entries r
            -- The leg it gives back, as an equality: one probe of the (transfer_id, leg, account_id) key.
            join entries d on d.transfer_id = r.transfer_id and d.account_id = r.account_id
                          and d.leg = case r.kind when 'refund' then 'debit' else 'hold' end
           where r.account_id = p_account_id and r.kind in ('refund', 'payout_release')
             and r.created_at > now() - interval '24 hours' and d.created_at > now() - interval '24 hours')
$$;
