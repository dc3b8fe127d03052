-- A customer's ledger entry as wallet.credited or wallet.debited, in the entry's transaction
-- (trigger entries_wallet_event, only on customer:<user>:<currency> accounts). amount is the
-- entry's magnitude, balance_after the account's ledger balance after it.
create or replace function entry_wallet_event()
returns trigger
language plpgsql
as $$
begin
  perform append_wallet_event(
    split_part(new.account_id, ':', 2),
    case when new.amount < 0 then 'wallet.debited' else 'wallet.credited' end,
    jsonb_build_object('entry_id', new.entry_id::text, 'transfer_id', new.transfer_id, 'leg', new.leg,
                       'kind', new.kind, 'currency', new.currency, 'amount', abs(new.amount),
                       'balance_after', new.balance_after));
  return null;
end $$;
