-- Up Migration

-- close_wallet now also refuses while a transfer into or out of the wallet can still be reversed:
-- it takes the reversal window (p_reversal_window_ms) and answers until when the last one is
-- open (open_until). Its body lives in db/functions/close_wallet.sql, applied after this file.
--
-- During the rolling deploy a process of the previous version calling the three-argument
-- close_wallet fails loudly (function does not exist) and closes nothing; closing a wallet is a
-- rare ops action, retried once every process runs this version.
drop function close_wallet(text, text, text);

-- Down Migration
-- The previous version's db/functions/close_wallet.sql differs from the recorded checksum, so
-- applying the definitions of that version re-creates the three-argument function; nothing of
-- its body is restated here.
drop function close_wallet(text, text, text, bigint);
