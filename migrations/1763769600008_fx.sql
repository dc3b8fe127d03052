-- Up Migration

-- Cross-currency transfers. The money goes through the shard's FX house account of each
-- currency: the debit posts sender -X / fx:SRC +X on the sender's shard, the credit posts
-- fx:DST -Y / recipient +Y on the recipient's, so every posting, every shard and every currency
-- balances on its own, and nothing sits in clearing. The FX house's balances are the wallet's
-- currency position: positive in what it bought, negative in what it sold.
alter table accounts drop constraint accounts_kind_check;
alter table accounts add constraint accounts_kind_check check (kind in ('customer', 'clearing', 'settlement', 'fx'));
alter table entries drop constraint entries_kind_check;
alter table entries add constraint entries_kind_check
  check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'reversal_out', 'reversal_in', 'clearing', 'settlement', 'fx'));

alter table ops_audit drop constraint ops_audit_action_check;
alter table ops_audit add constraint ops_audit_action_check
  check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject',
                    'limit_change', 'close', 'fx_rate_set'));
alter table ops_audit drop constraint ops_audit_target_type_check;
alter table ops_audit add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer', 'fx_rate'));

-- Rates ops set, with their whole history: the current rate of a pair is its newest row.
-- Kept on shard 0, the home of the wallet's reference data. A rate is exact (numeric, never a
-- float): units of the quote currency for one unit of the base currency.
create table fx_rates (
  rate_id    bigint generated always as identity primary key,
  base       char(3) not null check (base ~ '^[A-Z]{3}$'),
  quote      char(3) not null check (quote ~ '^[A-Z]{3}$'),
  rate       numeric not null check (rate > 0),
  set_by     text not null check (char_length(set_by) between 1 and 128),
  reason     text check (char_length(reason) <= 500),
  set_at     timestamptz not null default clock_timestamp(),
  check (base <> quote)
);
create index fx_rates_pair_newest on fx_rates (base, quote, rate_id desc);
create trigger fx_rates_append_only before update or delete on fx_rates
  for each row execute function refuse_ledger_rewrite();
create trigger fx_rates_no_truncate before truncate on fx_rates
  for each statement execute function refuse_ledger_rewrite();

-- A quote locks a rate for one user and one amount until it expires; a transfer uses it once.
-- Kept on the quoting user's shard, where that user's transfers are recorded.
create table fx_quotes (
  quote_id        text primary key check (quote_id ~ '^q_[0-9a-f]{32}$'),
  user_id         text not null,
  source_currency char(3) not null,
  target_currency char(3) not null,
  rate            numeric not null check (rate > 0),
  source_amount   bigint not null check (source_amount > 0),
  target_amount   bigint not null check (target_amount > 0),
  created_at      timestamptz not null default now(),
  expires_at      timestamptz not null,
  used_by         text,
  check (source_currency <> target_currency)
);
create index fx_quotes_expiry on fx_quotes (expires_at);

-- A transfer's conversion, fixed once when the transfer was accepted: written with its record on
-- the owner's shard, and with the credit on the recipient's shard (history there shows it).
-- Replays, retries and reruns all read the rate from here, never from the current rates.
create table conversions (
  transfer_id     text primary key,
  source_currency char(3) not null,
  source_amount   bigint not null check (source_amount > 0),
  target_currency char(3) not null,
  target_amount   bigint not null check (target_amount > 0),
  rate            numeric not null check (rate > 0),
  quote_id        text,
  created_at      timestamptz not null default now(),
  check (source_currency <> target_currency)
);
create trigger conversions_append_only before update or delete on conversions
  for each row execute function refuse_ledger_rewrite();
create trigger conversions_no_truncate before truncate on conversions
  for each statement execute function refuse_ledger_rewrite();

-- Down Migration
drop table conversions;
drop table fx_quotes;
drop table fx_rates;
alter table ops_audit drop constraint ops_audit_target_type_check;
alter table ops_audit add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer'));
alter table ops_audit drop constraint ops_audit_action_check;
alter table ops_audit add constraint ops_audit_action_check
  check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject', 'limit_change', 'close'));
alter table entries drop constraint entries_kind_check;
alter table entries add constraint entries_kind_check
  check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'reversal_out', 'reversal_in', 'clearing', 'settlement'));
alter table accounts drop constraint accounts_kind_check;
alter table accounts add constraint accounts_kind_check check (kind in ('customer', 'clearing', 'settlement'));
