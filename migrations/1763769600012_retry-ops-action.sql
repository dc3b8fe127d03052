-- Up Migration

-- An operator's `retry` of a transfer's step that had failed for good (the transfer was
-- NEEDS_ATTENTION) is audited as `retry`. The action list is read from the constraint as it
-- stands and extended, so this composes with any other migration that extends the same list.
do $$
declare
  v_definition text;
begin
  select pg_get_constraintdef(oid) into strict v_definition
    from pg_constraint where conname = 'ops_audit_action_check' and conrelid = 'ops_audit'::regclass;
  if v_definition not like '%])))' then
    raise exception 'ops_audit_action_check has an unexpected shape: %', v_definition;
  end if;
  alter table ops_audit drop constraint ops_audit_action_check;
  execute 'alter table ops_audit add constraint ops_audit_action_check '
    || left(v_definition, length(v_definition) - 4) || ', ''retry''::text])))';
end $$;

-- Down Migration
-- The audit is append-only: going down fails (the check does not hold) while a retry row exists.
do $$
declare
  v_definition text;
begin
  select pg_get_constraintdef(oid) into strict v_definition
    from pg_constraint where conname = 'ops_audit_action_check' and conrelid = 'ops_audit'::regclass;
  alter table ops_audit drop constraint ops_audit_action_check;
  execute 'alter table ops_audit add constraint ops_audit_action_check '
    || replace(v_definition, ', ''retry''::text', '');
end $$;
