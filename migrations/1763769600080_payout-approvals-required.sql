-- Up Migration

-- A payout's review rule, fixed on its record when it is accepted, as a transfer's is
-- (transfers.approvals_required): 0 no review, 1 one operator, 2 four eyes. The workflow's start
-- reads it from here, so a change of REVIEW_THRESHOLD_MINOR or FOUR_EYES_THRESHOLD_MINOR after
-- acceptance does not change the rule of a payout already accepted. Rows from before this column
-- keep 0 and their start derives the rule as it did (temporal-client/start-payout.ts).
alter table payouts add column approvals_required smallint not null default 0
  check (approvals_required between 0 and 2);

-- Down Migration

alter table payouts drop column approvals_required;
