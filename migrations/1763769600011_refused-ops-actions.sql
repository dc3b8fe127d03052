-- Up Migration

-- An operator's request to a transfer that was refused before anything moved (no valid action
-- token, a token for another transfer or action, an expired or forged one, an operator who
-- already approved) is audited too, as `refused`: who (when the token's signature held, else
-- '(unverified)'), why (details: action, refusal, message) and through which channel.
alter table ops_audit drop constraint ops_audit_action_check;
alter table ops_audit add constraint ops_audit_action_check
  check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject',
                    'limit_change', 'close', 'fx_rate_set', 'refused'));

-- Down Migration
-- The audit is append-only: going down fails (the check does not hold) while a refused row exists.
alter table ops_audit drop constraint ops_audit_action_check;
alter table ops_audit add constraint ops_audit_action_check
  check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject',
                    'limit_change', 'close', 'fx_rate_set'));
