-- A pay-in credited to its wallet (trigger payin_deposits_wallet_event, on the owner's shard, in
-- credit_payin's transaction): payin.credited, beside the wallet.credited of its ledger entry.
create or replace function payin_wallet_event()
returns trigger
language plpgsql
as $$
begin
  perform append_wallet_event(new.user_id, 'payin.credited',
    jsonb_build_object('posting_id', new.posting_id, 'trace_number', new.trace_number, 'currency', new.currency,
                       'amount', new.amount, 'originator_name', new.originator_name));
  return null;
end $$;
