-- Up Migration

-- The wallet sends back credits it cannot take (R02 account closed, R03 no account) in a file of
-- returns it uploads (bank/credit-returns.ts). A credit is returned once: the file that returned
-- it is recorded on it, and the money goes back to its originator out of our settlement account.
alter table incoming_credits
  add column return_code text check (return_code ~ '^R\d{2}$'),
  add column returned_at timestamptz,
  add column return_file_id bigint references received_files (file_id),
  add constraint incoming_credits_returned_check
    check ((return_code is null) = (returned_at is null) and (return_code is null) = (return_file_id is null));

alter table settlement_lines drop constraint settlement_lines_kind_check,
  add constraint settlement_lines_kind_check
    check (kind in ('payout_settled', 'payout_returned', 'incoming_credit', 'incoming_credit_returned'));

-- Down Migration
alter table settlement_lines drop constraint settlement_lines_kind_check,
  add constraint settlement_lines_kind_check check (kind in ('payout_settled', 'payout_returned', 'incoming_credit'));
alter table incoming_credits drop constraint incoming_credits_returned_check,
  drop column return_file_id, drop column returned_at, drop column return_code;
