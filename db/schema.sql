--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: account_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.account_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  perform append_wallet_event(new.user_id, 'wallet.limits_changed',
    jsonb_build_object('currency', new.currency, 'min_balance', new.min_balance,
                       'daily_outgoing_max', new.daily_outgoing_max));
  return null;
end $$;


--
-- Name: append_wallet_event(text, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.append_wallet_event(p_user_id text, p_type text, p_data jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  v_sequence bigint;
begin
  update wallet_event_heads set last_sequence = last_sequence + 1
  where user_id = p_user_id
  returning last_sequence into v_sequence;
  if v_sequence is null then
    insert into wallet_event_heads as h (user_id, last_sequence)
    values (p_user_id, 1)
    on conflict (user_id) do update set last_sequence = h.last_sequence + 1
    returning h.last_sequence into v_sequence;
  end if;
  insert into wallet_events (user_id, sequence, type, schema_version, data)
  values (p_user_id, v_sequence, p_type, 1, p_data);
  return v_sequence;
end $$;


--
-- Name: assert_posting_balanced(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.assert_posting_balanced() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: chain_entry(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.chain_entry() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  v_previous_seq bigint;
  v_previous_hash bytea;
  v_snapshot_every integer;
  v_snapshot_entry_id bigint;
  v_snapshot_balance bigint;
begin
  -- An index probe of entries_account_seq. (Two plain statements measured cheaper than one
  -- joining the setting in.)
  select e.account_seq, e.hash into v_previous_seq, v_previous_hash
    from entries e
   where e.account_id = new.account_id and e.account_seq is not null
   order by e.account_seq desc
   limit 1;
  new.account_seq := coalesce(v_previous_seq, 0) + 1;
  new.hash := entry_chain_hash(v_previous_hash, new);

  select s.snapshot_every into v_snapshot_every from ledger_settings s;
  if new.account_seq % v_snapshot_every = 0 then
    -- Replayed from the previous snapshot: at most snapshot_every entries (while the setting is unchanged).
    select s.entry_id, s.balance into v_snapshot_entry_id, v_snapshot_balance
      from account_snapshots s
     where s.account_id = new.account_id
     order by s.account_seq desc
     limit 1;
    insert into account_snapshots (account_id, account_seq, entry_id, balance, hash)
    select new.account_id, new.account_seq, new.entry_id,
           coalesce(v_snapshot_balance, 0) + coalesce(sum(e.amount), 0) + new.amount, new.hash
      from entries e
     where e.account_id = new.account_id and e.entry_id > coalesce(v_snapshot_entry_id, 0);
  end if;
  return new;
end $$;


--
-- Name: chain_unchained_entries(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.chain_unchained_entries() RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  v_batch_max constant integer := 10000;
  v_snapshot_every integer := (select s.snapshot_every from ledger_settings s);
  v_account record;
  v_entry entries;
  v_seq bigint;
  v_hash bytea;
  v_balance bigint;
  v_ids bigint[] := '{}';
  v_seqs bigint[] := '{}';
  v_hashes bytea[] := '{}';
  v_linked bigint := 0;
begin
  for v_account in
    select e.account_id, min(e.entry_id) as first_entry_id from entries e where e.hash is null group by e.account_id order by e.account_id
  loop
    select e.account_seq, e.hash into v_seq, v_hash
      from entries e
     where e.account_id = v_account.account_id and e.entry_id < v_account.first_entry_id and e.account_seq is not null
     order by e.entry_id desc
     limit 1;
    v_seq := coalesce(v_seq, 0);
    select coalesce(sum(e.amount), 0) into v_balance
      from entries e where e.account_id = v_account.account_id and e.entry_id < v_account.first_entry_id;
    -- Entries after the first unchained one were numbered without it: their numbers go first, so
    -- the new ones never meet the old in the unique index.
    update entries set account_seq = null, hash = null
     where account_id = v_account.account_id and entry_id > v_account.first_entry_id and hash is not null;
    delete from account_snapshots where account_id = v_account.account_id and entry_id >= v_account.first_entry_id;
    for v_entry in
      select * from entries e where e.account_id = v_account.account_id and e.entry_id >= v_account.first_entry_id order by e.entry_id
    loop
      v_seq := v_seq + 1;
      v_entry.account_seq := v_seq;
      v_hash := entry_chain_hash(v_hash, v_entry);
      v_balance := v_balance + v_entry.amount;
      v_ids := v_ids || v_entry.entry_id;
      v_seqs := v_seqs || v_seq;
      v_hashes := v_hashes || v_hash;
      if v_seq % v_snapshot_every = 0 then
        insert into account_snapshots (account_id, account_seq, entry_id, balance, hash)
        values (v_account.account_id, v_seq, v_entry.entry_id, v_balance, v_hash);
      end if;
      -- Written in batches, one UPDATE each: a row at a time took 1.6 times as long.
      if cardinality(v_ids) >= v_batch_max then
        update entries e set account_seq = u.seq, hash = u.hash
          from unnest(v_ids, v_seqs, v_hashes) as u (entry_id, seq, hash)
         where e.entry_id = u.entry_id;
        v_linked := v_linked + cardinality(v_ids);
        v_ids := '{}'; v_seqs := '{}'; v_hashes := '{}';
      end if;
    end loop;
    update entries e set account_seq = u.seq, hash = u.hash
      from unnest(v_ids, v_seqs, v_hashes) as u (entry_id, seq, hash)
     where e.entry_id = u.entry_id;
    v_linked := v_linked + cardinality(v_ids);
    v_ids := '{}'; v_seqs := '{}'; v_hashes := '{}';
  end loop;
  return v_linked;
end $$;


--
-- Name: close_wallet(text, text, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.close_wallet(p_user_id text, p_operator text, p_reason text, p_reversal_window_ms bigint) RETURNS TABLE(outcome text, closed_at timestamp with time zone, open_until timestamp with time zone)
    LANGUAGE plpgsql
    AS $$
declare
  -- A record in one of these is not final: its money may still move (a new such status is one more entry here).
  v_open_statuses constant text[] := array['PENDING', 'PENDING_REVIEW'];
  v_window constant interval := make_interval(secs => greatest(p_reversal_window_ms, 0) / 1000.0);
  v_user record;
  v_open_until timestamptz;
begin
  select u.closed_at into v_user from users u where u.user_id = p_user_id for update;
  if not found then
    return query select 'unknown_user'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  if v_user.closed_at is not null then
    return query select 'closed'::text, v_user.closed_at, null::timestamptz;
    return;
  end if;
  if exists (select 1 from accounts a where a.user_id = p_user_id and a.balance <> 0) then
    return query select 'balance_not_zero'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  if exists (select 1 from transfers t where t.owner_user_id = p_user_id and t.status = any (v_open_statuses))
     or exists (select 1 from payout_holds h where h.user_id = p_user_id and h.status = 'held') then
    return query select 'transfers_in_flight'::text, null::timestamptz, null::timestamptz;
    return;
  end if;
  select max(window_end) into v_open_until from (
    -- Its own transfers (sent, deposited, withdrawn): a reversal moves money back into or out of it.
    select t.completed_at + v_window as window_end
      from transfers t
     where t.owner_user_id = p_user_id and t.status = 'COMPLETED' and t.completed_at + v_window > now()
    union all
    -- Transfers into it, from any shard, not reversed yet: a reversal debits it.
    select coalesce(e.posted_at, e.created_at) + v_window
      from accounts a
      join entries e on e.account_id = a.account_id
     where a.user_id = p_user_id and e.leg = 'credit'
       and coalesce(e.posted_at, e.created_at) > now() - v_window
       and not exists (select 1 from postings p
                        where p.transfer_id = e.transfer_id and p.leg = 'reversal_debit' and p.outcome = 'posted')
  ) open_windows;
  if v_open_until is not null then
    return query select 'reversal_window_open'::text, null::timestamptz, v_open_until;
    return;
  end if;
  update users set closed_at = now() where user_id = p_user_id;
  insert into ops_audit (operator, action, target_type, target_id, reason, via)
  values (p_operator, 'close', 'user', p_user_id, p_reason, 'http');
  return query select 'closed'::text, now(), null::timestamptz;
end $$;


--
-- Name: credit_payin(text, text, character, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.credit_payin(p_trace_number text, p_user_id text, p_currency character, p_amount bigint, p_originator_name text, p_workflow_id text, p_run_id text) RETURNS TABLE(outcome text, reason text, balance_after bigint, replayed boolean)
    LANGUAGE plpgsql
    AS $$
declare
  v_open boolean;
  v_leg record;
  v_deposit payin_deposits;
begin
  if p_amount <= 0 then
    raise exception 'pay-in % of % %: amounts are positive', p_trace_number, p_amount, p_currency
      using errcode = 'check_violation';
  end if;
  select u.closed_at is null into v_open from users u where u.user_id = p_user_id for share;
  select * into strict v_leg
    from post_leg(p_transfer_id => 'pi_' || p_trace_number, p_leg => 'credit', p_user_id => p_user_id,
                  p_currency => p_currency, p_customer_delta => p_amount, p_counterparty => 'settlement',
                  p_entry_kind => 'deposit', p_ignore_holds => coalesce(v_open, false),
                  p_workflow_id => p_workflow_id, p_run_id => p_run_id, p_finish_if_posted => null,
                  p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                  p_daily_limit => null);
  if v_leg.outcome = 'posted' then
    insert into payin_deposits (posting_id, trace_number, user_id, currency, amount, originator_name)
    values ('pi_' || p_trace_number, p_trace_number, p_user_id, p_currency, p_amount, p_originator_name)
    on conflict (posting_id) do nothing;
    select * into strict v_deposit from payin_deposits d where d.posting_id = 'pi_' || p_trace_number;
    if (v_deposit.user_id, v_deposit.currency, v_deposit.amount) is distinct from (p_user_id, p_currency, p_amount) then
      raise exception 'pay-in % credited % % to %, not % % to %', p_trace_number, v_deposit.amount,
        v_deposit.currency, v_deposit.user_id, p_amount, p_currency, p_user_id using errcode = 'WL409';
    end if;
  end if;
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.entries (
    entry_id bigint NOT NULL,
    transfer_id text NOT NULL,
    leg text NOT NULL,
    account_id text NOT NULL,
    currency character(3) NOT NULL,
    amount bigint NOT NULL,
    balance_after bigint NOT NULL,
    kind text NOT NULL,
    workflow_id text NOT NULL,
    run_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    posted_at timestamp with time zone DEFAULT clock_timestamp(),
    account_seq bigint,
    hash bytea,
    CONSTRAINT entries_amount_check CHECK ((amount <> 0)),
    CONSTRAINT entries_chain_shape CHECK ((((account_seq IS NULL) = (hash IS NULL)) AND ((account_seq IS NULL) OR ((account_seq > 0) AND (octet_length(hash) = 32))))),
    CONSTRAINT entries_kind_check CHECK ((kind = ANY (ARRAY['deposit'::text, 'withdrawal'::text, 'transfer_out'::text, 'transfer_in'::text, 'refund'::text, 'reversal_out'::text, 'reversal_in'::text, 'clearing'::text, 'settlement'::text, 'fx'::text, 'payout_hold'::text, 'payout_release'::text, 'payout_return'::text, 'payouts_in_flight'::text])))
);


--
-- Name: entry_chain_hash(bytea, public.entries); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.entry_chain_hash(p_previous bytea, e public.entries) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  select sha256(
    coalesce(p_previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    || convert_to(concat_ws('|', 'wallet-entry-v1',
         e.entry_id, e.account_seq, e.amount, e.balance_after,
         (extract(epoch from e.created_at) * 1000000)::bigint,
         coalesce((extract(epoch from e.posted_at) * 1000000)::bigint::text, '-'),
         length(e.transfer_id), e.transfer_id, length(e.leg), e.leg, length(e.account_id), e.account_id,
         length(e.currency), e.currency, length(e.kind), e.kind, length(e.workflow_id), e.workflow_id, length(e.run_id), e.run_id),
       'UTF8')
  )
$$;


--
-- Name: entry_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.entry_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  perform append_wallet_event(
    split_part(new.account_id, ':', 2),
    case when new.amount < 0 then 'wallet.debited' else 'wallet.credited' end,
    jsonb_build_object('entry_id', new.entry_id::text, 'transfer_id', new.transfer_id, 'leg', new.leg,
                       'kind', new.kind, 'currency', new.currency, 'amount', abs(new.amount),
                       'balance_after', new.balance_after));
  return null;
end $$;


--
-- Name: expire_review(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.expire_review(p_transfer_id text) RETURNS text
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: fence_debit(text, text, text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.fence_debit(p_transfer_id text, p_workflow_id text, p_run_id text, p_finish boolean) RETURNS TABLE(outcome text, reason text, balance_after bigint, transfer_status text)
    LANGUAGE plpgsql
    AS $$
declare
  v_outcome record;
  v_status text;
begin
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_transfer_id, 'debit', 'voided', null, p_workflow_id, p_run_id)
  on conflict (transfer_id, leg) do nothing;
  select * into strict v_outcome from leg_outcome(p_transfer_id, 'debit');
  if v_outcome.outcome = 'voided' and p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', 'ledger_unavailable');
  end if;
  return query select v_outcome.outcome, v_outcome.reason, v_outcome.balance_after, v_status;
end $$;


--
-- Name: finish_transfer(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.finish_transfer(p_transfer_id text, p_status text, p_reason text) RETURNS text
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: hold_payout(text, text, character, bigint, bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.hold_payout(p_payout_id text, p_user_id text, p_currency character, p_amount bigint, p_daily_limit bigint, p_workflow_id text, p_run_id text) RETURNS TABLE(outcome text, reason text, balance_after bigint, replayed boolean)
    LANGUAGE plpgsql
    AS $$
declare
  v_leg record;
  v_hold payout_holds;
begin
  if p_amount <= 0 then
    raise exception 'hold % of % %: amounts are positive', p_payout_id, p_amount, p_currency using errcode = 'check_violation';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'hold', p_user_id => p_user_id, p_currency => p_currency,
                  p_customer_delta => -p_amount, p_counterparty => 'payouts_in_flight', p_entry_kind => 'payout_hold',
                  p_ignore_holds => false, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                  p_finish_if_posted => null, p_finish_reason_if_posted => null, p_finish_if_refused => false,
                  p_allow_negative => false, p_daily_limit => p_daily_limit);
  if v_leg.outcome = 'posted' then
    insert into payout_holds (payout_id, user_id, currency, amount)
    values (p_payout_id, p_user_id, p_currency, p_amount)
    on conflict (payout_id) do nothing;
    select * into strict v_hold from payout_holds h where h.payout_id = p_payout_id;
    if (v_hold.user_id, v_hold.currency, v_hold.amount) is distinct from (p_user_id, p_currency, p_amount) then
      raise exception 'payout % held % % of %, not % % of %', p_payout_id, v_hold.amount, v_hold.currency,
        v_hold.user_id, p_amount, p_currency, p_user_id using errcode = 'WL409';
    end if;
  end if;
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;


--
-- Name: leg_outcome(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.leg_outcome(p_transfer_id text, p_leg text) RETURNS TABLE(outcome text, reason text, balance_after bigint)
    LANGUAGE sql STABLE
    AS $$
  select p.outcome, p.reason,
         (select e.balance_after from entries e
           where e.transfer_id = p.transfer_id and e.leg = p.leg and e.account_id like 'customer:%')
    from postings p
   where p.transfer_id = p_transfer_id and p.leg = p_leg
$$;


--
-- Name: lock_wallet_event_heads(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.lock_wallet_event_heads(p_user_id text, p_other_user_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
  v_wanted text[] := array(select distinct u from unnest(array[p_user_id, p_other_user_id]) u where u is not null);
  v_locked int;
begin
  select count(*) into v_locked from (
    select 1 from wallet_event_heads where user_id = any(v_wanted) order by user_id for update
  ) heads;
  if v_locked < cardinality(v_wanted) then
    insert into wallet_event_heads as h (user_id, last_sequence)
    select u, 0 from unnest(v_wanted) u order by u
    on conflict (user_id) do update set last_sequence = h.last_sequence;
  end if;
end $$;


--
-- Name: outgoing_last_day(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.outgoing_last_day(p_account_id text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: payin_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payin_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  perform append_wallet_event(new.user_id, 'payin.credited',
    jsonb_build_object('posting_id', new.posting_id, 'trace_number', new.trace_number, 'currency', new.currency,
                       'amount', new.amount, 'originator_name', new.originator_name));
  return null;
end $$;


--
-- Name: payout_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payout_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  perform append_wallet_event(new.user_id, 'payout.' || lower(new.status),
    jsonb_build_object('payout_id', new.payout_id, 'status', new.status, 'bank_account_id', new.bank_account_id,
                       'rail', new.rail, 'currency', new.currency, 'amount', new.amount)
    || jsonb_strip_nulls(jsonb_build_object('failure_reason', new.failure_reason, 'return_code', new.return_code)));
  return null;
end $$;


--
-- Name: post_leg(text, text, text, character, bigint, text, text, boolean, text, text, text, text, boolean, boolean, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.post_leg(p_transfer_id text, p_leg text, p_user_id text, p_currency character, p_customer_delta bigint, p_counterparty text, p_entry_kind text, p_ignore_holds boolean, p_workflow_id text, p_run_id text, p_finish_if_posted text, p_finish_reason_if_posted text, p_finish_if_refused boolean, p_allow_negative boolean, p_daily_limit bigint) RETURNS TABLE(outcome text, reason text, balance_after bigint, replayed boolean, transfer_status text)
    LANGUAGE plpgsql
    AS $$
declare
  v_customer_id text := 'customer:' || p_user_id || ':' || p_currency;
  v_system_id text := p_counterparty || ':' || p_currency;
  v_user record;
  v_account record;
  v_limit bigint;
  v_outcome text;
  v_reason text;
  v_balance bigint;
  v_system_balance bigint;
  v_replayed boolean := false;
  v_status text;
  v_record_status text;
begin
  select o.outcome, o.reason, o.balance_after into v_outcome, v_reason, v_balance
    from leg_outcome(p_transfer_id, p_leg) o;
  if found then
    v_replayed := true;
  else
    -- A transfer's money leaves only while its record is PENDING: not while it is held for
    -- review, and never after it ended. The record is on the debit's shard (the sender owns it).
    -- Runs whose policy was computed wrongly (a rerun, a worker of another version, a config
    -- change) are stopped here rather than trusted.
    if p_leg = 'debit' then
      select t.status into v_record_status from transfers t where t.transfer_id = p_transfer_id for share;
      if found and v_record_status <> 'PENDING' then
        raise exception 'transfer % is %: its debit may not post', p_transfer_id, v_record_status using errcode = 'WL409';
      end if;
    end if;
    -- FOR SHARE: a concurrent freeze or close waits for this posting to commit, and vice versa.
    select u.frozen, u.closed_at into v_user from users u where u.user_id = p_user_id for share;
    if not found then
      v_outcome := 'refused'; v_reason := 'unknown_user';
    elsif v_user.closed_at is not null and not p_ignore_holds then
      v_outcome := 'refused'; v_reason := 'wallet_closed';
    elsif v_user.frozen and not p_ignore_holds then
      v_outcome := 'refused'; v_reason := 'user_frozen';
    elsif p_customer_delta < 0 then
      -- The wallet's row lock comes first: concurrent debits of one wallet queue here, and each
      -- one's limit sum (a later statement, so a fresh snapshot) sees the debits before it.
      select a.min_balance, a.daily_outgoing_max into v_account
        from accounts a where a.account_id = v_customer_id for update;
      if not found then
        v_outcome := 'refused'; v_reason := 'insufficient_funds';
      else
        v_limit := coalesce(v_account.daily_outgoing_max, p_daily_limit);
        if p_daily_limit is not null and v_limit is not null
           and outgoing_last_day(v_customer_id) - p_customer_delta > v_limit then
          v_outcome := 'refused'; v_reason := 'limit_exceeded';
        else
          update accounts
             set balance = balance + p_customer_delta, updated_at = now(),
                 negative_override = (negative_override or p_allow_negative) and balance + p_customer_delta < least(min_balance, 0)
           where account_id = v_customer_id and (p_allow_negative or balance + p_customer_delta >= min_balance)
          returning balance into v_balance;
          if v_balance is null then
            v_outcome := 'refused'; v_reason := 'insufficient_funds';
          else
            v_outcome := 'posted';
          end if;
        end if;
      end if;
    else
      update accounts set balance = balance + p_customer_delta, updated_at = now(),
                          negative_override = negative_override and balance + p_customer_delta < least(min_balance, 0)
       where account_id = v_customer_id
      returning balance into v_balance;
      if v_balance is null then
        -- Wallets open on their first credit.
        insert into accounts (account_id, kind, user_id, currency)
        values (v_customer_id, 'customer', p_user_id, p_currency) on conflict do nothing;
        update accounts set balance = balance + p_customer_delta, updated_at = now()
         where account_id = v_customer_id
        returning balance into v_balance;
      end if;
      v_outcome := 'posted';
    end if;

    -- The arbiter: a second attempt of this leg fails here and is rolled back whole.
    insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
    values (p_transfer_id, p_leg, v_outcome, v_reason, p_workflow_id, p_run_id);

    if v_outcome = 'posted' then
      -- The shard's system row is the one every posting touches: it is locked last, so it is
      -- held only from here to commit.
      update accounts set balance = balance - p_customer_delta, updated_at = now()
       where account_id = v_system_id
      returning balance into v_system_balance;
      if v_system_balance is null then
        insert into accounts (account_id, kind, user_id, currency)
        values (v_system_id, p_counterparty, null, p_currency) on conflict do nothing;
        update accounts set balance = balance - p_customer_delta, updated_at = now()
         where account_id = v_system_id
        returning balance into v_system_balance;
      end if;
      -- The entry's event and the finished record's event may be two wallets' (a credit that
      -- completes the sender's transfer): both heads are locked in one order first (lock_wallet_event_heads).
      if p_finish_if_posted is not null then
        perform lock_wallet_event_heads(p_user_id, (select t.owner_user_id from transfers t where t.transfer_id = p_transfer_id));
      end if;
      insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
      values (p_transfer_id, p_leg, v_customer_id, p_currency, p_customer_delta, v_balance, p_entry_kind, p_workflow_id, p_run_id),
             (p_transfer_id, p_leg, v_system_id, p_currency, -p_customer_delta, v_system_balance, p_counterparty, p_workflow_id, p_run_id);
    end if;
  end if;

  if v_outcome = 'posted' and p_finish_if_posted is not null then
    v_status := finish_transfer(p_transfer_id, p_finish_if_posted, p_finish_reason_if_posted);
  elsif v_outcome = 'refused' and p_finish_if_refused then
    v_status := finish_transfer(p_transfer_id, 'FAILED', v_reason);
  end if;
  return query select v_outcome, v_reason, v_balance, v_replayed, v_status;
end $$;


--
-- Name: post_reversal_debit(text, text, character, bigint, text, boolean, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.post_reversal_debit(p_transfer_id text, p_user_id text, p_currency character, p_amount bigint, p_counterparty text, p_allow_negative boolean, p_workflow_id text, p_run_id text) RETURNS TABLE(outcome text, reason text, balance_after bigint, replayed boolean)
    LANGUAGE plpgsql
    AS $$
declare
  v_customer_id text := 'customer:' || p_user_id || ':' || p_currency;
  v_available bigint;
  v_leg record;
begin
  -- The lock first: a racing attempt waits here, then sees the posting the first one committed.
  select a.balance - a.min_balance into v_available from accounts a where a.account_id = v_customer_id for update;
  if not exists (select 1 from postings p where p.transfer_id = p_transfer_id and p.leg = 'reversal_debit')
     and not p_allow_negative and coalesce(v_available, 0) < p_amount then
    return query select 'refused'::text, 'insufficient_funds'::text, null::bigint, false;
    return;
  end if;
  select * into v_leg
    from post_leg(p_transfer_id => p_transfer_id, p_leg => 'reversal_debit', p_user_id => p_user_id,
                  p_currency => p_currency, p_customer_delta => -p_amount, p_counterparty => p_counterparty,
                  p_entry_kind => 'reversal_out', p_ignore_holds => true, p_workflow_id => p_workflow_id,
                  p_run_id => p_run_id, p_finish_if_posted => null, p_finish_reason_if_posted => null,
                  p_finish_if_refused => false, p_allow_negative => true, p_daily_limit => null);
  return query select v_leg.outcome, v_leg.reason, v_leg.balance_after, v_leg.replayed;
end $$;


--
-- Name: record_reversal(text, text, text, boolean, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.record_reversal(p_transfer_id text, p_operator text, p_reason text, p_forced boolean, p_via text) RETURNS text
    LANGUAGE plpgsql
    AS $$
declare
  v_status text;
begin
  update transfers
     set status = 'REVERSED', reversed_at = now(), reversed_by = p_operator, reversal_reason = p_reason,
         reversal_forced = p_forced, updated_at = now()
   where transfer_id = p_transfer_id and status = 'COMPLETED'
  returning status into v_status;
  if v_status is null then
    select status into v_status from transfers where transfer_id = p_transfer_id;
    if v_status is distinct from 'REVERSED' then
      raise exception 'transfer % is %, not COMPLETED: it cannot be reversed', p_transfer_id, v_status using errcode = 'WL409';
    end if;
  end if;
  insert into ops_audit (operator, action, target_type, target_id, reason, via, details, dedupe_key)
  values (p_operator, 'reverse', 'transfer', p_transfer_id, p_reason, p_via, jsonb_build_object('allow_negative', p_forced),
          p_transfer_id || ':reverse')
  on conflict (dedupe_key) do nothing;
  return v_status;
end $$;


--
-- Name: record_review_decision(text, text, text, text, text, boolean, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.record_review_decision(p_transfer_id text, p_decision text, p_operator text, p_reason text, p_via text, p_releases boolean, p_dedupe_key text) RETURNS text
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: refund_debit(text, text, character, bigint, text, text, text, text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.refund_debit(p_transfer_id text, p_user_id text, p_currency character, p_amount bigint, p_counterparty text, p_workflow_id text, p_run_id text, p_failure_reason text, p_finish boolean) RETURNS TABLE(debit_outcome text, refunded boolean, transfer_status text)
    LANGUAGE plpgsql
    AS $$
declare
  v_debit text;
  v_refund record;
  v_status text;
begin
  select f.outcome into strict v_debit
    from fence_debit(p_transfer_id => p_transfer_id, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                     p_finish => false) f;
  if v_debit = 'posted' then
    select * into v_refund
      from post_leg(p_transfer_id => p_transfer_id, p_leg => 'refund', p_user_id => p_user_id, p_currency => p_currency,
                    p_customer_delta => p_amount, p_counterparty => p_counterparty, p_entry_kind => 'refund',
                    p_ignore_holds => true, p_workflow_id => p_workflow_id, p_run_id => p_run_id,
                    p_finish_if_posted => case when p_finish then 'FAILED' end,
                    p_finish_reason_if_posted => p_failure_reason, p_finish_if_refused => false,
                    p_allow_negative => false, p_daily_limit => null);
    if v_refund.outcome <> 'posted' then
      raise exception 'refund of % ended %; refunds must post', p_transfer_id, v_refund.outcome;
    end if;
    v_status := v_refund.transfer_status;
  elsif p_finish then
    v_status := finish_transfer(p_transfer_id, 'FAILED', p_failure_reason);
  end if;
  return query select v_debit, v_debit = 'posted', v_status;
end $$;


--
-- Name: refuse_ledger_rewrite(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.refuse_ledger_rewrite() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  raise exception 'ledger table % is append-only: % refused', tg_table_name, tg_op
    using errcode = 'restrict_violation';
end $$;


--
-- Name: release_hold(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.release_hold(p_payout_id text, p_workflow_id text, p_run_id text) RETURNS TABLE(hold_outcome text, released boolean, balance_after bigint)
    LANGUAGE plpgsql
    AS $$
declare
  v_hold_outcome text;
  v_hold payout_holds;
  v_leg record;
begin
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_payout_id, 'hold', 'voided', null, p_workflow_id, p_run_id)
  on conflict (transfer_id, leg) do nothing;
  select o.outcome into strict v_hold_outcome from leg_outcome(p_payout_id, 'hold') o;
  if v_hold_outcome <> 'posted' then
    return query select v_hold_outcome, false, null::bigint;
    return;
  end if;
  -- The hold's row lock orders this against a racing settle of the same payout.
  select * into strict v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if v_hold.status not in ('held', 'released') then
    raise exception 'payout % is %: its hold cannot be released', p_payout_id, v_hold.status using errcode = 'WL409';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'release', p_user_id => v_hold.user_id,
                  p_currency => v_hold.currency, p_customer_delta => v_hold.amount,
                  p_counterparty => 'payouts_in_flight', p_entry_kind => 'payout_release', p_ignore_holds => true,
                  p_workflow_id => p_workflow_id, p_run_id => p_run_id, p_finish_if_posted => null,
                  p_finish_reason_if_posted => null, p_finish_if_refused => false, p_allow_negative => false,
                  p_daily_limit => null);
  if v_leg.outcome <> 'posted' then
    raise exception 'release of % ended %; releases must post', p_payout_id, v_leg.outcome;
  end if;
  update payout_holds set status = 'released', updated_at = now() where payout_id = p_payout_id and status = 'held';
  return query select v_hold_outcome, true, v_leg.balance_after;
end $$;


--
-- Name: return_settled(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.return_settled(p_payout_id text, p_workflow_id text, p_run_id text) RETURNS TABLE(outcome text, balance_after bigint, replayed boolean)
    LANGUAGE plpgsql
    AS $$
declare
  v_hold payout_holds;
  v_leg record;
begin
  select * into v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if not found or v_hold.status not in ('settled', 'returned') then
    raise exception 'payout % is %: only a settled payout can be returned', p_payout_id,
      coalesce(v_hold.status, 'not held') using errcode = 'WL409';
  end if;
  select * into strict v_leg
    from post_leg(p_transfer_id => p_payout_id, p_leg => 'return', p_user_id => v_hold.user_id,
                  p_currency => v_hold.currency, p_customer_delta => v_hold.amount, p_counterparty => 'settlement',
                  p_entry_kind => 'payout_return', p_ignore_holds => true, p_workflow_id => p_workflow_id,
                  p_run_id => p_run_id, p_finish_if_posted => null, p_finish_reason_if_posted => null,
                  p_finish_if_refused => false, p_allow_negative => false, p_daily_limit => null);
  if v_leg.outcome <> 'posted' then
    raise exception 'return of % ended %; returns must post', p_payout_id, v_leg.outcome;
  end if;
  update payout_holds set status = 'returned', updated_at = now() where payout_id = p_payout_id and status = 'settled';
  return query select v_leg.outcome, v_leg.balance_after, v_leg.replayed;
end $$;


--
-- Name: settle_hold(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.settle_hold(p_payout_id text, p_workflow_id text, p_run_id text) RETURNS TABLE(outcome text, replayed boolean)
    LANGUAGE plpgsql
    AS $$
declare
  v_hold payout_holds;
  v_in_flight_id text;
  v_settlement_id text;
  v_in_flight_balance bigint;
  v_settlement_balance bigint;
begin
  select * into v_hold from payout_holds h where h.payout_id = p_payout_id for update;
  if not found then
    raise exception 'payout % holds nothing: it cannot settle', p_payout_id using errcode = 'WL409';
  end if;
  if v_hold.status in ('settled', 'returned') then
    return query select 'posted'::text, true;
    return;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'payout % is %: it cannot settle', p_payout_id, v_hold.status using errcode = 'WL409';
  end if;
  v_in_flight_id := 'payouts_in_flight:' || v_hold.currency;
  v_settlement_id := 'settlement:' || v_hold.currency;
  insert into postings (transfer_id, leg, outcome, reason, workflow_id, run_id)
  values (p_payout_id, 'settle', 'posted', null, p_workflow_id, p_run_id);
  update accounts set balance = balance - v_hold.amount, updated_at = now()
   where account_id = v_in_flight_id
  returning balance into strict v_in_flight_balance;
  insert into accounts (account_id, kind, user_id, currency)
  values (v_settlement_id, 'settlement', null, v_hold.currency) on conflict do nothing;
  update accounts set balance = balance + v_hold.amount, updated_at = now()
   where account_id = v_settlement_id
  returning balance into strict v_settlement_balance;
  insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
  values (p_payout_id, 'settle', v_in_flight_id, v_hold.currency, -v_hold.amount, v_in_flight_balance,
          'payouts_in_flight', p_workflow_id, p_run_id),
         (p_payout_id, 'settle', v_settlement_id, v_hold.currency, v_hold.amount, v_settlement_balance,
          'settlement', p_workflow_id, p_run_id);
  update payout_holds set status = 'settled', updated_at = now() where payout_id = p_payout_id;
  return query select 'posted'::text, false;
end $$;


--
-- Name: transfer_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.transfer_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  v_data jsonb := jsonb_build_object(
    'transfer_id', new.transfer_id, 'kind', new.kind, 'status', new.status, 'from_user_id', new.from_user_id,
    'to_user_id', new.to_user_id, 'currency', new.currency, 'amount', new.amount);
begin
  if tg_op = 'INSERT' then
    perform append_wallet_event(new.owner_user_id, 'transfer.created', v_data);
    if new.status = 'PENDING_REVIEW' then
      perform append_wallet_event(new.owner_user_id, 'transfer.held_for_review', v_data);
    end if;
    return null;
  end if;
  if old.status is distinct from new.status then
    perform append_wallet_event(new.owner_user_id,
      case
        when new.status = 'PENDING' and old.status = 'PENDING_REVIEW' then 'transfer.approved'
        when new.status = 'PENDING_REVIEW' then 'transfer.held_for_review'
        when new.status = 'COMPLETED' then 'transfer.completed'
        when new.status = 'FAILED' and new.failure_reason = 'review_rejected' then 'transfer.rejected'
        when new.status = 'FAILED' then 'transfer.failed'
        when new.status = 'REVERSED' then 'transfer.reversed'
        else 'transfer.status_changed'
      end,
      v_data || case
        when new.status = 'FAILED' then jsonb_build_object('failure_reason', new.failure_reason)
        when new.status = 'REVERSED' then jsonb_build_object('reversal_forced', new.reversal_forced)
        else '{}'::jsonb
      end);
  end if;
  if new.reversal_refused_reason is not null and old.reversal_refused_reason is distinct from new.reversal_refused_reason then
    perform append_wallet_event(new.owner_user_id, 'transfer.reversal_refused',
      v_data || jsonb_build_object('refusal', new.reversal_refused_reason));
  end if;
  return null;
end $$;


--
-- Name: user_wallet_event(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_wallet_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  if old.frozen is distinct from new.frozen then
    perform append_wallet_event(new.user_id, case when new.frozen then 'wallet.frozen' else 'wallet.unfrozen' end,
                                '{}'::jsonb);
  end if;
  if new.closed_at is not null and old.closed_at is null then
    perform append_wallet_event(new.user_id, 'wallet.closed', jsonb_build_object('closed_at', new.closed_at));
  end if;
  return null;
end $$;


--
-- Name: account_snapshots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account_snapshots (
    account_id text NOT NULL,
    account_seq bigint NOT NULL,
    entry_id bigint NOT NULL,
    balance bigint NOT NULL,
    hash bytea NOT NULL,
    taken_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT account_snapshots_account_seq_check CHECK ((account_seq > 0)),
    CONSTRAINT account_snapshots_hash_check CHECK ((octet_length(hash) = 32))
);


--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    account_id text NOT NULL,
    kind text NOT NULL,
    user_id text,
    currency character(3) NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    min_balance bigint DEFAULT 0 NOT NULL,
    daily_outgoing_max bigint,
    negative_override boolean DEFAULT false NOT NULL,
    CONSTRAINT accounts_check CHECK (((kind = 'customer'::text) = (user_id IS NOT NULL))),
    CONSTRAINT accounts_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT accounts_customer_floor CHECK (((kind <> 'customer'::text) OR negative_override OR (balance >= LEAST(min_balance, (0)::bigint)))),
    CONSTRAINT accounts_daily_outgoing_max_check CHECK ((daily_outgoing_max > 0)),
    CONSTRAINT accounts_kind_check CHECK ((kind = ANY (ARRAY['customer'::text, 'clearing'::text, 'settlement'::text, 'fx'::text, 'payouts_in_flight'::text])))
);


--
-- Name: bank_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bank_accounts (
    bank_account_id text NOT NULL,
    user_id text NOT NULL,
    rail text NOT NULL,
    currency character(3) NOT NULL,
    holder_name text NOT NULL,
    details jsonb NOT NULL,
    last4 text NOT NULL,
    fingerprint text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    deleted_at timestamp with time zone,
    deleted_by text,
    CONSTRAINT bank_accounts_bank_account_id_check CHECK ((bank_account_id ~ '^ba_[0-9a-f]{32}$'::text)),
    CONSTRAINT bank_accounts_check CHECK (((rail <> 'ach'::text) OR ((currency = 'USD'::bpchar) AND ((details ->> 'routing_number'::text) ~ '^[0-9]{9}$'::text) AND ((details ->> 'account_number'::text) ~ '^[0-9]{4,17}$'::text) AND ((details ->> 'account_type'::text) = ANY (ARRAY['checking'::text, 'savings'::text]))))),
    CONSTRAINT bank_accounts_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT bank_accounts_fingerprint_check CHECK ((fingerprint ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT bank_accounts_holder_name_check CHECK (((char_length(holder_name) >= 1) AND (char_length(holder_name) <= 100))),
    CONSTRAINT bank_accounts_last4_check CHECK ((last4 ~ '^[0-9A-Z]{4}$'::text)),
    CONSTRAINT bank_accounts_rail_check CHECK ((rail = 'ach'::text))
);


--
-- Name: bank_feed_cursors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bank_feed_cursors (
    reader text NOT NULL,
    cursor text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bank_feed_cursors_cursor_check CHECK ((cursor ~ '^[0-9]{1,18}$'::text))
);


--
-- Name: conversions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversions (
    transfer_id text NOT NULL,
    source_currency character(3) NOT NULL,
    source_amount bigint NOT NULL,
    target_currency character(3) NOT NULL,
    target_amount bigint NOT NULL,
    rate numeric NOT NULL,
    quote_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT conversions_check CHECK ((source_currency <> target_currency)),
    CONSTRAINT conversions_rate_check CHECK ((rate > (0)::numeric)),
    CONSTRAINT conversions_source_amount_check CHECK ((source_amount > 0)),
    CONSTRAINT conversions_target_amount_check CHECK ((target_amount > 0))
);


--
-- Name: entries_entry_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.entries ALTER COLUMN entry_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.entries_entry_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: event_relay_cursors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.event_relay_cursors (
    relay text NOT NULL,
    xid xid8 NOT NULL,
    "position" bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT event_relay_cursors_position_check CHECK (("position" >= 0)),
    CONSTRAINT event_relay_cursors_relay_check CHECK ((relay ~ '^[a-z][a-z0-9_-]{0,40}$'::text))
);


--
-- Name: function_definitions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.function_definitions (
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: fx_quotes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.fx_quotes (
    quote_id text NOT NULL,
    user_id text NOT NULL,
    source_currency character(3) NOT NULL,
    target_currency character(3) NOT NULL,
    rate numeric NOT NULL,
    source_amount bigint NOT NULL,
    target_amount bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_by text,
    CONSTRAINT fx_quotes_check CHECK ((source_currency <> target_currency)),
    CONSTRAINT fx_quotes_quote_id_check CHECK ((quote_id ~ '^q_[0-9a-f]{32}$'::text)),
    CONSTRAINT fx_quotes_rate_check CHECK ((rate > (0)::numeric)),
    CONSTRAINT fx_quotes_source_amount_check CHECK ((source_amount > 0)),
    CONSTRAINT fx_quotes_target_amount_check CHECK ((target_amount > 0))
);


--
-- Name: fx_rates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.fx_rates (
    rate_id bigint NOT NULL,
    base character(3) NOT NULL,
    quote character(3) NOT NULL,
    rate numeric NOT NULL,
    set_by text NOT NULL,
    reason text,
    set_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT fx_rates_base_check CHECK ((base ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT fx_rates_check CHECK ((base <> quote)),
    CONSTRAINT fx_rates_quote_check CHECK ((quote ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT fx_rates_rate_check CHECK ((rate > (0)::numeric)),
    CONSTRAINT fx_rates_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT fx_rates_set_by_check CHECK (((char_length(set_by) >= 1) AND (char_length(set_by) <= 128)))
);


--
-- Name: fx_rates_rate_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.fx_rates ALTER COLUMN rate_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.fx_rates_rate_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ledger_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_settings (
    only_row boolean DEFAULT true NOT NULL,
    snapshot_every integer DEFAULT 1000 NOT NULL,
    CONSTRAINT ledger_settings_only_row_check CHECK (only_row),
    CONSTRAINT ledger_settings_snapshot_every_check CHECK (((snapshot_every >= 1) AND (snapshot_every <= 1000000)))
);


--
-- Name: ops_audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ops_audit (
    audit_id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    operator text NOT NULL,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id text NOT NULL,
    reason text,
    via text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    dedupe_key text,
    CONSTRAINT ops_audit_action_check CHECK ((action = ANY (ARRAY['deposit'::text, 'withdrawal'::text, 'transfer'::text, 'freeze'::text, 'unfreeze'::text, 'reverse'::text, 'reverse_refused'::text, 'approve'::text, 'reject'::text, 'limit_change'::text, 'close'::text, 'fx_rate_set'::text, 'refused'::text, 'retry'::text, 'bank_account_add'::text, 'bank_account_remove'::text, 'payout_cancel'::text]))),
    CONSTRAINT ops_audit_operator_check CHECK (((char_length(operator) >= 1) AND (char_length(operator) <= 128))),
    CONSTRAINT ops_audit_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT ops_audit_target_type_check CHECK ((target_type = ANY (ARRAY['user'::text, 'transfer'::text, 'fx_rate'::text, 'bank_account'::text, 'payout'::text]))),
    CONSTRAINT ops_audit_via_check CHECK ((via = ANY (ARRAY['http'::text, 'signal'::text, 'update'::text])))
);


--
-- Name: ops_audit_audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.ops_audit ALTER COLUMN audit_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ops_audit_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: payin_credits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payin_credits (
    trace_number text NOT NULL,
    account_number text NOT NULL,
    amount bigint NOT NULL,
    currency character(3) NOT NULL,
    originator_name text NOT NULL,
    user_id text,
    status text NOT NULL,
    return_code text,
    first_cursor bigint NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_at timestamp with time zone,
    return_file_sequence bigint,
    CONSTRAINT payin_credits_account_number_check CHECK (((char_length(account_number) >= 1) AND (char_length(account_number) <= 17))),
    CONSTRAINT payin_credits_amount_check CHECK ((amount > 0)),
    CONSTRAINT payin_credits_check CHECK (((status = ANY (ARRAY['return_pending'::text, 'returned'::text])) = (return_code IS NOT NULL))),
    CONSTRAINT payin_credits_check1 CHECK (((status <> ALL (ARRAY['received'::text, 'credited'::text])) OR (user_id IS NOT NULL))),
    CONSTRAINT payin_credits_check2 CHECK (((status <> 'returned'::text) OR (return_file_sequence IS NOT NULL))),
    CONSTRAINT payin_credits_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT payin_credits_return_code_check CHECK ((return_code ~ '^R[0-9]{2}$'::text)),
    CONSTRAINT payin_credits_status_check CHECK ((status = ANY (ARRAY['received'::text, 'credited'::text, 'return_pending'::text, 'returned'::text]))),
    CONSTRAINT payin_credits_trace_number_check CHECK ((trace_number ~ '^[0-9]{15}$'::text))
);


--
-- Name: payin_deposits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payin_deposits (
    posting_id text NOT NULL,
    trace_number text NOT NULL,
    user_id text NOT NULL,
    currency character(3) NOT NULL,
    amount bigint NOT NULL,
    originator_name text NOT NULL,
    credited_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payin_deposits_amount_check CHECK ((amount > 0)),
    CONSTRAINT payin_deposits_posting_id_check CHECK ((posting_id ~ '^pi_[0-9]{15}$'::text))
);


--
-- Name: payin_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payin_files (
    cursor bigint NOT NULL,
    file_name text NOT NULL,
    outcome text NOT NULL,
    reason text,
    credits integer DEFAULT 0 NOT NULL,
    returned integer DEFAULT 0 NOT NULL,
    duplicates integer DEFAULT 0 NOT NULL,
    conflicts integer DEFAULT 0 NOT NULL,
    processed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payin_files_check CHECK (((outcome = 'refused'::text) = (reason IS NOT NULL))),
    CONSTRAINT payin_files_conflicts_check CHECK ((conflicts >= 0)),
    CONSTRAINT payin_files_credits_check CHECK ((credits >= 0)),
    CONSTRAINT payin_files_cursor_check CHECK ((cursor > 0)),
    CONSTRAINT payin_files_duplicates_check CHECK ((duplicates >= 0)),
    CONSTRAINT payin_files_outcome_check CHECK ((outcome = ANY (ARRAY['processed'::text, 'refused'::text]))),
    CONSTRAINT payin_files_reason_check CHECK ((char_length(reason) <= 2000)),
    CONSTRAINT payin_files_returned_check CHECK ((returned >= 0))
);


--
-- Name: payin_return_entry_sequence; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.payin_return_entry_sequence
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: payin_return_file_sequence; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.payin_return_file_sequence
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: payin_return_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payin_return_files (
    file_sequence bigint NOT NULL,
    file_name text NOT NULL,
    contents text NOT NULL,
    entry_count integer NOT NULL,
    total_minor bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    uploaded_at timestamp with time zone,
    bank_file_id text,
    refused_at timestamp with time zone,
    refusal text,
    CONSTRAINT payin_return_files_check CHECK (((refused_at IS NULL) = (refusal IS NULL))),
    CONSTRAINT payin_return_files_check1 CHECK (((uploaded_at IS NULL) OR (refused_at IS NULL))),
    CONSTRAINT payin_return_files_entry_count_check CHECK ((entry_count > 0)),
    CONSTRAINT payin_return_files_file_sequence_check CHECK ((file_sequence > 0)),
    CONSTRAINT payin_return_files_refusal_check CHECK ((char_length(refusal) <= 2000)),
    CONSTRAINT payin_return_files_total_minor_check CHECK ((total_minor > 0))
);


--
-- Name: payout_file_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payout_file_entries (
    file_sequence bigint NOT NULL,
    "position" integer NOT NULL,
    payout_id text NOT NULL,
    user_id text NOT NULL,
    amount bigint NOT NULL,
    trace_number text NOT NULL,
    settled_signaled_at timestamp with time zone,
    CONSTRAINT payout_file_entries_amount_check CHECK ((amount > 0)),
    CONSTRAINT payout_file_entries_position_check CHECK (("position" >= 0))
);


--
-- Name: payout_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payout_files (
    file_sequence bigint NOT NULL,
    rail text NOT NULL,
    status text DEFAULT 'COLLECTING'::text NOT NULL,
    first_entry_sequence bigint,
    entry_count integer,
    total_minor bigint,
    file_created_at timestamp with time zone,
    effective_date date,
    file_name text,
    bank_file_id text,
    refusal text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    recorded_at timestamp with time zone,
    uploaded_at timestamp with time zone,
    announced_at timestamp with time zone,
    CONSTRAINT payout_files_check CHECK (((status = 'COLLECTING'::text) = (first_entry_sequence IS NULL))),
    CONSTRAINT payout_files_entry_count_check CHECK ((entry_count >= 1)),
    CONSTRAINT payout_files_file_sequence_check CHECK ((file_sequence >= 1)),
    CONSTRAINT payout_files_first_entry_sequence_check CHECK ((first_entry_sequence >= 0)),
    CONSTRAINT payout_files_rail_check CHECK ((rail = 'ach'::text)),
    CONSTRAINT payout_files_status_check CHECK ((status = ANY (ARRAY['COLLECTING'::text, 'RECORDED'::text, 'UPLOADED'::text, 'SETTLED'::text, 'REFUSED'::text]))),
    CONSTRAINT payout_files_total_minor_check CHECK ((total_minor >= 1))
);


--
-- Name: payout_holds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payout_holds (
    payout_id text NOT NULL,
    user_id text NOT NULL,
    currency character(3) NOT NULL,
    amount bigint NOT NULL,
    status text DEFAULT 'held'::text NOT NULL,
    held_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payout_holds_amount_check CHECK ((amount > 0)),
    CONSTRAINT payout_holds_status_check CHECK ((status = ANY (ARRAY['held'::text, 'released'::text, 'settled'::text, 'returned'::text])))
);


--
-- Name: payout_returns; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payout_returns (
    return_trace_number text NOT NULL,
    original_trace_number text NOT NULL,
    return_code text NOT NULL,
    amount bigint NOT NULL,
    payout_id text,
    outcome text DEFAULT 'received'::text NOT NULL,
    bank_cursor text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_at timestamp with time zone,
    CONSTRAINT payout_returns_outcome_check CHECK ((outcome = ANY (ARRAY['received'::text, 'applied'::text, 'unknown_trace'::text, 'closed'::text])))
);


--
-- Name: payouts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payouts (
    payout_id text NOT NULL,
    user_id text NOT NULL,
    bank_account_id text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    rail text NOT NULL,
    currency character(3) NOT NULL,
    amount bigint NOT NULL,
    status text DEFAULT 'ACCEPTED'::text NOT NULL,
    failure_reason text,
    return_code text,
    file_sequence bigint,
    trace_number text,
    initiated_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    settled_at timestamp with time zone,
    return_window_ends_at timestamp with time zone,
    approvals_required smallint DEFAULT 0 NOT NULL,
    CONSTRAINT payouts_amount_check CHECK ((amount > 0)),
    CONSTRAINT payouts_approvals_required_check CHECK (((approvals_required >= 0) AND (approvals_required <= 2))),
    CONSTRAINT payouts_check CHECK (((status = 'FAILED'::text) = (failure_reason IS NOT NULL))),
    CONSTRAINT payouts_check1 CHECK (((status = 'RETURNED'::text) = (return_code IS NOT NULL))),
    CONSTRAINT payouts_payout_id_check CHECK ((payout_id ~ '^po_[0-9a-f]{32}$'::text)),
    CONSTRAINT payouts_rail_check CHECK ((rail = 'ach'::text)),
    CONSTRAINT payouts_return_code_check CHECK ((return_code ~ '^R[0-9]{2}$'::text)),
    CONSTRAINT payouts_status_check CHECK ((status = ANY (ARRAY['ACCEPTED'::text, 'PENDING_REVIEW'::text, 'HELD'::text, 'BATCHED'::text, 'SUBMITTED'::text, 'SETTLED'::text, 'RETURNED'::text, 'CANCELED'::text, 'FAILED'::text]))),
    CONSTRAINT payouts_trace_number_check CHECK ((trace_number ~ '^[0-9]{15}$'::text))
);


--
-- Name: pgmigrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pgmigrations (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    run_on timestamp without time zone NOT NULL
);


--
-- Name: pgmigrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.pgmigrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: pgmigrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.pgmigrations_id_seq OWNED BY public.pgmigrations.id;


--
-- Name: postings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.postings (
    transfer_id text NOT NULL,
    leg text NOT NULL,
    outcome text NOT NULL,
    reason text,
    workflow_id text NOT NULL,
    run_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT postings_check CHECK (((outcome = 'refused'::text) = (reason IS NOT NULL))),
    CONSTRAINT postings_leg_check CHECK ((leg = ANY (ARRAY['debit'::text, 'credit'::text, 'refund'::text, 'reversal_debit'::text, 'reversal_credit'::text, 'hold'::text, 'release'::text, 'settle'::text, 'return'::text]))),
    CONSTRAINT postings_outcome_check CHECK ((outcome = ANY (ARRAY['posted'::text, 'refused'::text, 'voided'::text])))
);


--
-- Name: reconciliation_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reconciliation_runs (
    run_id bigint NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    ok boolean NOT NULL,
    discrepancy_count integer NOT NULL,
    report jsonb NOT NULL,
    workflow_id text,
    CONSTRAINT reconciliation_runs_check CHECK ((finished_at >= started_at)),
    CONSTRAINT reconciliation_runs_check1 CHECK ((ok = (discrepancy_count = 0))),
    CONSTRAINT reconciliation_runs_discrepancy_count_check CHECK ((discrepancy_count >= 0))
);


--
-- Name: reconciliation_runs_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.reconciliation_runs ALTER COLUMN run_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.reconciliation_runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: refused_bank_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refused_bank_files (
    bank_cursor text NOT NULL,
    file_name text NOT NULL,
    reason text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: settlement_reconciliations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settlement_reconciliations (
    run_id bigint NOT NULL,
    statement_date date NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    ok boolean NOT NULL,
    break_count integer NOT NULL,
    report jsonb NOT NULL,
    workflow_id text,
    CONSTRAINT settlement_reconciliations_break_count_check CHECK ((break_count >= 0)),
    CONSTRAINT settlement_reconciliations_check CHECK ((finished_at >= started_at)),
    CONSTRAINT settlement_reconciliations_check1 CHECK ((ok = (break_count = 0)))
);


--
-- Name: settlement_reconciliations_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.settlement_reconciliations ALTER COLUMN run_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.settlement_reconciliations_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: transfer_batch_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transfer_batch_items (
    batch_id text NOT NULL,
    "position" integer NOT NULL,
    transfer_id text NOT NULL,
    to_user_id text NOT NULL,
    amount bigint NOT NULL,
    note text,
    idempotency_key text NOT NULL,
    CONSTRAINT transfer_batch_items_amount_check CHECK ((amount > 0)),
    CONSTRAINT transfer_batch_items_idempotency_key_check CHECK (((char_length(idempotency_key) >= 1) AND (char_length(idempotency_key) <= 255))),
    CONSTRAINT transfer_batch_items_note_check CHECK ((char_length(note) <= 280)),
    CONSTRAINT transfer_batch_items_position_check CHECK ((("position" >= 0) AND ("position" < 1000)))
);


--
-- Name: transfer_batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transfer_batches (
    batch_id text NOT NULL,
    payer_user_id text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    currency character(3) NOT NULL,
    item_count integer NOT NULL,
    total_amount bigint NOT NULL,
    status text DEFAULT 'RUNNING'::text NOT NULL,
    initiated_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT transfer_batches_idempotency_key_check CHECK (((char_length(idempotency_key) >= 1) AND (char_length(idempotency_key) <= 255))),
    CONSTRAINT transfer_batches_item_count_check CHECK (((item_count >= 1) AND (item_count <= 1000))),
    CONSTRAINT transfer_batches_status_check CHECK ((status = ANY (ARRAY['RUNNING'::text, 'COMPLETED'::text]))),
    CONSTRAINT transfer_batches_total_amount_check CHECK ((total_amount > 0))
);


--
-- Name: transfers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transfers (
    transfer_id text NOT NULL,
    kind text NOT NULL,
    owner_user_id text NOT NULL,
    from_user_id text,
    to_user_id text,
    amount bigint NOT NULL,
    currency character(3) NOT NULL,
    note text,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    status text NOT NULL,
    failure_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    reversed_at timestamp with time zone,
    reversed_by text,
    reversal_reason text,
    reversal_forced boolean,
    reversal_refused_reason text,
    approvals_required smallint DEFAULT 0 NOT NULL,
    initiated_by text,
    CONSTRAINT transfers_amount_check CHECK ((amount > 0)),
    CONSTRAINT transfers_approvals_required_check CHECK (((approvals_required >= 0) AND (approvals_required <= 2))),
    CONSTRAINT transfers_idempotency_key_check CHECK (((char_length(idempotency_key) >= 1) AND (char_length(idempotency_key) <= 255))),
    CONSTRAINT transfers_kind_check CHECK ((kind = ANY (ARRAY['transfer'::text, 'deposit'::text, 'withdrawal'::text]))),
    CONSTRAINT transfers_note_check CHECK ((char_length(note) <= 280)),
    CONSTRAINT transfers_reversal_reason_check CHECK ((char_length(reversal_reason) <= 500)),
    CONSTRAINT transfers_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'PENDING_REVIEW'::text, 'COMPLETED'::text, 'FAILED'::text, 'REVERSED'::text])))
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    user_id text NOT NULL,
    frozen boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    CONSTRAINT users_user_id_check CHECK ((user_id ~ '^[A-Za-z0-9_-]{1,64}$'::text))
);


--
-- Name: virtual_account_sequence; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.virtual_account_sequence
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    MAXVALUE 9999999999
    CACHE 1;


--
-- Name: virtual_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.virtual_accounts (
    account_number text NOT NULL,
    user_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT virtual_accounts_account_number_check CHECK ((account_number ~ '^7[0-9]{11}$'::text)),
    CONSTRAINT virtual_accounts_user_id_check CHECK ((user_id ~ '^[A-Za-z0-9_-]{1,64}$'::text))
);


--
-- Name: wallet_event_heads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_event_heads (
    user_id text NOT NULL,
    last_sequence bigint NOT NULL,
    CONSTRAINT wallet_event_heads_last_sequence_check CHECK ((last_sequence >= 0))
);


--
-- Name: wallet_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_events (
    user_id text NOT NULL,
    sequence bigint NOT NULL,
    event_id text GENERATED ALWAYS AS (((('ev_'::text || user_id) || '_'::text) || sequence)) STORED,
    "position" bigint NOT NULL,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL,
    type text NOT NULL,
    schema_version smallint NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    data jsonb NOT NULL,
    CONSTRAINT wallet_events_schema_version_check CHECK ((schema_version >= 1)),
    CONSTRAINT wallet_events_sequence_check CHECK ((sequence > 0)),
    CONSTRAINT wallet_events_type_check CHECK ((type ~ '^[a-z_]+\.[a-z_]+$'::text)),
    CONSTRAINT wallet_events_user_id_check CHECK ((user_id ~ '^[A-Za-z0-9_-]{1,64}$'::text))
);


--
-- Name: wallet_events_position_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.wallet_events ALTER COLUMN "position" ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.wallet_events_position_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    delivery_id bigint NOT NULL,
    endpoint_id text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    user_id text NOT NULL,
    sequence bigint NOT NULL,
    attempt integer NOT NULL,
    replay boolean NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL,
    error text,
    succeeded boolean NOT NULL,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_deliveries_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT webhook_deliveries_latency_ms_check CHECK ((latency_ms >= 0))
);


--
-- Name: webhook_deliveries_delivery_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.webhook_deliveries ALTER COLUMN delivery_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_deliveries_delivery_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: webhook_drain_cursors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_drain_cursors (
    drain text NOT NULL,
    xid xid8 NOT NULL,
    "position" bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    endpoint_id text NOT NULL,
    url text NOT NULL,
    event_types text[] NOT NULL,
    wallets text[],
    owner_role text NOT NULL,
    owner_id text NOT NULL,
    secret_sealed text NOT NULL,
    previous_secret_sealed text,
    previous_secret_expires_at timestamp with time zone,
    status text DEFAULT 'active'::text NOT NULL,
    disabled_reason text,
    disabled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT webhook_endpoints_check CHECK (((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))),
    CONSTRAINT webhook_endpoints_check1 CHECK (((status = 'disabled'::text) = (disabled_at IS NOT NULL))),
    CONSTRAINT webhook_endpoints_endpoint_id_check CHECK ((endpoint_id ~ '^we_[0-9a-f]{32}$'::text)),
    CONSTRAINT webhook_endpoints_event_types_check CHECK ((cardinality(event_types) > 0)),
    CONSTRAINT webhook_endpoints_owner_role_check CHECK ((owner_role = ANY (ARRAY['customer'::text, 'ops'::text]))),
    CONSTRAINT webhook_endpoints_status_check CHECK ((status = ANY (ARRAY['active'::text, 'disabled'::text]))),
    CONSTRAINT webhook_endpoints_wallets_check CHECK (((wallets IS NULL) OR (cardinality(wallets) > 0)))
);


--
-- Name: pgmigrations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pgmigrations ALTER COLUMN id SET DEFAULT nextval('public.pgmigrations_id_seq'::regclass);


--
-- Name: account_snapshots account_snapshots_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_snapshots
    ADD CONSTRAINT account_snapshots_pkey PRIMARY KEY (account_id, account_seq);


--
-- Name: accounts accounts_account_id_currency_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_account_id_currency_key UNIQUE (account_id, currency);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (account_id);


--
-- Name: bank_accounts bank_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bank_accounts
    ADD CONSTRAINT bank_accounts_pkey PRIMARY KEY (bank_account_id);


--
-- Name: bank_feed_cursors bank_feed_cursors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bank_feed_cursors
    ADD CONSTRAINT bank_feed_cursors_pkey PRIMARY KEY (reader);


--
-- Name: conversions conversions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversions
    ADD CONSTRAINT conversions_pkey PRIMARY KEY (transfer_id);


--
-- Name: entries entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_pkey PRIMARY KEY (entry_id);


--
-- Name: entries entries_transfer_id_leg_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_transfer_id_leg_account_id_key UNIQUE (transfer_id, leg, account_id);


--
-- Name: event_relay_cursors event_relay_cursors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event_relay_cursors
    ADD CONSTRAINT event_relay_cursors_pkey PRIMARY KEY (relay);


--
-- Name: function_definitions function_definitions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.function_definitions
    ADD CONSTRAINT function_definitions_pkey PRIMARY KEY (name);


--
-- Name: fx_quotes fx_quotes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fx_quotes
    ADD CONSTRAINT fx_quotes_pkey PRIMARY KEY (quote_id);


--
-- Name: fx_rates fx_rates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fx_rates
    ADD CONSTRAINT fx_rates_pkey PRIMARY KEY (rate_id);


--
-- Name: ledger_settings ledger_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_settings
    ADD CONSTRAINT ledger_settings_pkey PRIMARY KEY (only_row);


--
-- Name: ops_audit ops_audit_dedupe_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ops_audit
    ADD CONSTRAINT ops_audit_dedupe_key_key UNIQUE (dedupe_key);


--
-- Name: ops_audit ops_audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ops_audit
    ADD CONSTRAINT ops_audit_pkey PRIMARY KEY (audit_id);


--
-- Name: payin_credits payin_credits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_credits
    ADD CONSTRAINT payin_credits_pkey PRIMARY KEY (trace_number);


--
-- Name: payin_deposits payin_deposits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_deposits
    ADD CONSTRAINT payin_deposits_pkey PRIMARY KEY (posting_id);


--
-- Name: payin_deposits payin_deposits_trace_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_deposits
    ADD CONSTRAINT payin_deposits_trace_number_key UNIQUE (trace_number);


--
-- Name: payin_files payin_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_files
    ADD CONSTRAINT payin_files_pkey PRIMARY KEY (cursor);


--
-- Name: payin_return_files payin_return_files_file_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_return_files
    ADD CONSTRAINT payin_return_files_file_name_key UNIQUE (file_name);


--
-- Name: payin_return_files payin_return_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_return_files
    ADD CONSTRAINT payin_return_files_pkey PRIMARY KEY (file_sequence);


--
-- Name: payout_file_entries payout_file_entries_payout_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_file_entries
    ADD CONSTRAINT payout_file_entries_payout_id_key UNIQUE (payout_id);


--
-- Name: payout_file_entries payout_file_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_file_entries
    ADD CONSTRAINT payout_file_entries_pkey PRIMARY KEY (file_sequence, "position");


--
-- Name: payout_file_entries payout_file_entries_trace_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_file_entries
    ADD CONSTRAINT payout_file_entries_trace_number_key UNIQUE (trace_number);


--
-- Name: payout_files payout_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_files
    ADD CONSTRAINT payout_files_pkey PRIMARY KEY (file_sequence);


--
-- Name: payout_holds payout_holds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_holds
    ADD CONSTRAINT payout_holds_pkey PRIMARY KEY (payout_id);


--
-- Name: payout_returns payout_returns_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_returns
    ADD CONSTRAINT payout_returns_pkey PRIMARY KEY (return_trace_number);


--
-- Name: payouts payouts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payouts
    ADD CONSTRAINT payouts_pkey PRIMARY KEY (payout_id);


--
-- Name: payouts payouts_user_id_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payouts
    ADD CONSTRAINT payouts_user_id_idempotency_key_key UNIQUE (user_id, idempotency_key);


--
-- Name: pgmigrations pgmigrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pgmigrations
    ADD CONSTRAINT pgmigrations_pkey PRIMARY KEY (id);


--
-- Name: postings postings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.postings
    ADD CONSTRAINT postings_pkey PRIMARY KEY (transfer_id, leg);


--
-- Name: reconciliation_runs reconciliation_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reconciliation_runs
    ADD CONSTRAINT reconciliation_runs_pkey PRIMARY KEY (run_id);


--
-- Name: refused_bank_files refused_bank_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refused_bank_files
    ADD CONSTRAINT refused_bank_files_pkey PRIMARY KEY (bank_cursor);


--
-- Name: settlement_reconciliations settlement_reconciliations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settlement_reconciliations
    ADD CONSTRAINT settlement_reconciliations_pkey PRIMARY KEY (run_id);


--
-- Name: transfer_batch_items transfer_batch_items_batch_id_transfer_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batch_items
    ADD CONSTRAINT transfer_batch_items_batch_id_transfer_id_key UNIQUE (batch_id, transfer_id);


--
-- Name: transfer_batch_items transfer_batch_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batch_items
    ADD CONSTRAINT transfer_batch_items_pkey PRIMARY KEY (batch_id, "position");


--
-- Name: transfer_batches transfer_batches_payer_user_id_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batches
    ADD CONSTRAINT transfer_batches_payer_user_id_idempotency_key_key UNIQUE (payer_user_id, idempotency_key);


--
-- Name: transfer_batches transfer_batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batches
    ADD CONSTRAINT transfer_batches_pkey PRIMARY KEY (batch_id);


--
-- Name: transfers transfers_owner_user_id_kind_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_owner_user_id_kind_idempotency_key_key UNIQUE (owner_user_id, kind, idempotency_key);


--
-- Name: transfers transfers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_pkey PRIMARY KEY (transfer_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (user_id);


--
-- Name: virtual_accounts virtual_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.virtual_accounts
    ADD CONSTRAINT virtual_accounts_pkey PRIMARY KEY (account_number);


--
-- Name: virtual_accounts virtual_accounts_user_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.virtual_accounts
    ADD CONSTRAINT virtual_accounts_user_id_key UNIQUE (user_id);


--
-- Name: wallet_event_heads wallet_event_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_event_heads
    ADD CONSTRAINT wallet_event_heads_pkey PRIMARY KEY (user_id);


--
-- Name: wallet_events wallet_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_events
    ADD CONSTRAINT wallet_events_pkey PRIMARY KEY (user_id, sequence);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (delivery_id);


--
-- Name: webhook_drain_cursors webhook_drain_cursors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_drain_cursors
    ADD CONSTRAINT webhook_drain_cursors_pkey PRIMARY KEY (drain);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (endpoint_id);


--
-- Name: accounts_user_currency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX accounts_user_currency ON public.accounts USING btree (user_id, currency) WHERE (kind = 'customer'::text);


--
-- Name: bank_accounts_live; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX bank_accounts_live ON public.bank_accounts USING btree (user_id, fingerprint) WHERE (deleted_at IS NULL);


--
-- Name: bank_accounts_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX bank_accounts_user ON public.bank_accounts USING btree (user_id, created_at) WHERE (deleted_at IS NULL);


--
-- Name: entries_account_newest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX entries_account_newest ON public.entries USING btree (account_id, entry_id DESC);


--
-- Name: entries_account_posted; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX entries_account_posted ON public.entries USING btree (account_id, COALESCE(posted_at, created_at) DESC, entry_id DESC);


--
-- Name: entries_account_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX entries_account_seq ON public.entries USING btree (account_id, account_seq) WHERE (account_seq IS NOT NULL);


--
-- Name: entries_outgoing_recent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX entries_outgoing_recent ON public.entries USING btree (account_id, created_at) INCLUDE (amount, kind) WHERE (kind = ANY (ARRAY['transfer_out'::text, 'withdrawal'::text, 'refund'::text, 'payout_hold'::text, 'payout_release'::text]));


--
-- Name: fx_quotes_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX fx_quotes_expiry ON public.fx_quotes USING btree (expires_at);


--
-- Name: fx_rates_pair_newest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX fx_rates_pair_newest ON public.fx_rates USING btree (base, quote, rate_id DESC);


--
-- Name: ops_audit_newest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ops_audit_newest ON public.ops_audit USING btree (occurred_at DESC, audit_id DESC);


--
-- Name: ops_audit_target; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ops_audit_target ON public.ops_audit USING btree (target_id, occurred_at DESC);


--
-- Name: payin_credits_returns_unsent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payin_credits_returns_unsent ON public.payin_credits USING btree (trace_number) WHERE ((status = 'return_pending'::text) AND (return_file_sequence IS NULL));


--
-- Name: payout_files_one_collecting; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX payout_files_one_collecting ON public.payout_files USING btree ((true)) WHERE (status = 'COLLECTING'::text);


--
-- Name: payout_holds_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payout_holds_open ON public.payout_holds USING btree (user_id, currency) INCLUDE (amount) WHERE (status = 'held'::text);


--
-- Name: payouts_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payouts_open ON public.payouts USING btree (status_changed_at) WHERE (status = ANY (ARRAY['ACCEPTED'::text, 'PENDING_REVIEW'::text, 'HELD'::text, 'BATCHED'::text, 'SUBMITTED'::text]));


--
-- Name: payouts_waiting; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payouts_waiting ON public.payouts USING btree (created_at) WHERE (status = 'HELD'::text);


--
-- Name: postings_reversal_debits; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX postings_reversal_debits ON public.postings USING btree (created_at) WHERE ((leg = 'reversal_debit'::text) AND (outcome = 'posted'::text));


--
-- Name: settlement_reconciliations_date; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX settlement_reconciliations_date ON public.settlement_reconciliations USING btree (statement_date, run_id);


--
-- Name: transfer_batches_running; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfer_batches_running ON public.transfer_batches USING btree (created_at) WHERE (status = 'RUNNING'::text);


--
-- Name: transfers_owner_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_owner_created ON public.transfers USING btree (owner_user_id, created_at DESC);


--
-- Name: transfers_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_pending ON public.transfers USING btree (transfer_id) WHERE (status = ANY (ARRAY['PENDING'::text, 'PENDING_REVIEW'::text]));


--
-- Name: wallet_events_drain; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_events_drain ON public.wallet_events USING btree (xid, "position");


--
-- Name: webhook_deliveries_endpoint; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_endpoint ON public.webhook_deliveries USING btree (endpoint_id, delivery_id);


--
-- Name: webhook_endpoints_live; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_endpoints_live ON public.webhook_endpoints USING btree (created_at) WHERE (deleted_at IS NULL);


--
-- Name: account_snapshots account_snapshots_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER account_snapshots_append_only BEFORE DELETE OR UPDATE ON public.account_snapshots FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: account_snapshots account_snapshots_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER account_snapshots_no_truncate BEFORE TRUNCATE ON public.account_snapshots FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: accounts accounts_wallet_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER accounts_wallet_event AFTER UPDATE ON public.accounts FOR EACH ROW WHEN (((new.kind = 'customer'::text) AND ((old.min_balance IS DISTINCT FROM new.min_balance) OR (old.daily_outgoing_max IS DISTINCT FROM new.daily_outgoing_max)))) EXECUTE FUNCTION public.account_wallet_event();


--
-- Name: conversions conversions_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversions_append_only BEFORE DELETE OR UPDATE ON public.conversions FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: conversions conversions_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversions_no_truncate BEFORE TRUNCATE ON public.conversions FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: entries entries_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER entries_append_only BEFORE DELETE OR UPDATE ON public.entries FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: entries entries_balanced; Type: TRIGGER; Schema: public; Owner: -
--

CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON public.entries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.assert_posting_balanced();


--
-- Name: entries entries_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON public.entries FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: entries entries_wallet_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER entries_wallet_event AFTER INSERT ON public.entries FOR EACH ROW WHEN ((new.account_id ~~ 'customer:%'::text)) EXECUTE FUNCTION public.entry_wallet_event();


--
-- Name: fx_rates fx_rates_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER fx_rates_append_only BEFORE DELETE OR UPDATE ON public.fx_rates FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: fx_rates fx_rates_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER fx_rates_no_truncate BEFORE TRUNCATE ON public.fx_rates FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: ops_audit ops_audit_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ops_audit_append_only BEFORE DELETE OR UPDATE ON public.ops_audit FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: ops_audit ops_audit_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ops_audit_no_truncate BEFORE TRUNCATE ON public.ops_audit FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: payin_deposits payin_deposits_wallet_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payin_deposits_wallet_event AFTER INSERT ON public.payin_deposits FOR EACH ROW EXECUTE FUNCTION public.payin_wallet_event();


--
-- Name: payouts payouts_wallet_event_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payouts_wallet_event_changed AFTER UPDATE ON public.payouts FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION public.payout_wallet_event();


--
-- Name: payouts payouts_wallet_event_created; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payouts_wallet_event_created AFTER INSERT ON public.payouts FOR EACH ROW EXECUTE FUNCTION public.payout_wallet_event();


--
-- Name: postings postings_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER postings_append_only BEFORE DELETE OR UPDATE ON public.postings FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: postings postings_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON public.postings FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: reconciliation_runs reconciliation_runs_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER reconciliation_runs_append_only BEFORE DELETE OR UPDATE ON public.reconciliation_runs FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: reconciliation_runs reconciliation_runs_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER reconciliation_runs_no_truncate BEFORE TRUNCATE ON public.reconciliation_runs FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: settlement_reconciliations settlement_reconciliations_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER settlement_reconciliations_append_only BEFORE DELETE OR UPDATE ON public.settlement_reconciliations FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: settlement_reconciliations settlement_reconciliations_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER settlement_reconciliations_no_truncate BEFORE TRUNCATE ON public.settlement_reconciliations FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: transfers transfers_wallet_event_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER transfers_wallet_event_changed AFTER UPDATE ON public.transfers FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) OR (old.reversal_refused_reason IS DISTINCT FROM new.reversal_refused_reason))) EXECUTE FUNCTION public.transfer_wallet_event();


--
-- Name: transfers transfers_wallet_event_created; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER transfers_wallet_event_created AFTER INSERT ON public.transfers FOR EACH ROW EXECUTE FUNCTION public.transfer_wallet_event();


--
-- Name: users users_wallet_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_wallet_event AFTER UPDATE ON public.users FOR EACH ROW WHEN (((old.frozen IS DISTINCT FROM new.frozen) OR (old.closed_at IS DISTINCT FROM new.closed_at))) EXECUTE FUNCTION public.user_wallet_event();


--
-- Name: wallet_events wallet_events_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_events_append_only BEFORE DELETE OR UPDATE ON public.wallet_events FOR EACH ROW EXECUTE FUNCTION public.refuse_ledger_rewrite();


--
-- Name: entries zz_entries_chain; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER zz_entries_chain BEFORE INSERT ON public.entries FOR EACH ROW EXECUTE FUNCTION public.chain_entry();


--
-- Name: accounts accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(user_id);


--
-- Name: bank_accounts bank_accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bank_accounts
    ADD CONSTRAINT bank_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(user_id);


--
-- Name: entries entries_account_id_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_account_id_currency_fkey FOREIGN KEY (account_id, currency) REFERENCES public.accounts(account_id, currency);


--
-- Name: entries entries_transfer_id_leg_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_transfer_id_leg_fkey FOREIGN KEY (transfer_id, leg) REFERENCES public.postings(transfer_id, leg);


--
-- Name: payin_credits payin_credits_return_file_sequence_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_credits
    ADD CONSTRAINT payin_credits_return_file_sequence_fkey FOREIGN KEY (return_file_sequence) REFERENCES public.payin_return_files(file_sequence);


--
-- Name: payin_deposits payin_deposits_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payin_deposits
    ADD CONSTRAINT payin_deposits_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(user_id);


--
-- Name: payout_file_entries payout_file_entries_file_sequence_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_file_entries
    ADD CONSTRAINT payout_file_entries_file_sequence_fkey FOREIGN KEY (file_sequence) REFERENCES public.payout_files(file_sequence);


--
-- Name: payout_holds payout_holds_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payout_holds
    ADD CONSTRAINT payout_holds_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(user_id);


--
-- Name: payouts payouts_bank_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payouts
    ADD CONSTRAINT payouts_bank_account_id_fkey FOREIGN KEY (bank_account_id) REFERENCES public.bank_accounts(bank_account_id);


--
-- Name: payouts payouts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payouts
    ADD CONSTRAINT payouts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(user_id);


--
-- Name: transfer_batch_items transfer_batch_items_batch_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batch_items
    ADD CONSTRAINT transfer_batch_items_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES public.transfer_batches(batch_id);


--
-- Name: transfer_batches transfer_batches_payer_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfer_batches
    ADD CONSTRAINT transfer_batches_payer_user_id_fkey FOREIGN KEY (payer_user_id) REFERENCES public.users(user_id);


--
-- Name: transfers transfers_owner_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_owner_user_id_fkey FOREIGN KEY (owner_user_id) REFERENCES public.users(user_id);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(endpoint_id);


--
-- PostgreSQL database dump complete
--


