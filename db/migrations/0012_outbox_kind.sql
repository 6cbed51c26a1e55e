-- What a mail is about (its message key, e.g. "mail.invite"), kept in the clear next to the recipient: with
-- no mail server the log says whom a mail was for and what it was about, never what it said.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
