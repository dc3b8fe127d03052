-- Up Migration

-- Duplicate delivery (a fault switch) also sends each credits file made while it is on a second
-- time, under a file id and cursor of its own, as a bank resending the same entries does: the
-- wallet's poller cannot skip it by its cursor, so only its entry-level de-duplication (by trace
-- number) keeps a credit from being taken twice. The copy names the file it repeats.
alter table outgoing_files add column resends bigint references outgoing_files (cursor);

-- Down Migration
alter table outgoing_files drop column resends;
