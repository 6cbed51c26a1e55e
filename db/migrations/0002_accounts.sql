-- People, organisations, memberships, one-time links, terms, throttling, audit and the mail outbox.
-- Times are INTEGER Unix seconds (UTC): compact, and comparisons are plain integer comparisons.

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL COLLATE NOCASE UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	lang TEXT NOT NULL DEFAULT 'de' CHECK (lang IN ('de', 'en')),
	time_zone TEXT NOT NULL DEFAULT 'Europe/Berlin',
	theme TEXT NOT NULL DEFAULT '' CHECK (theme IN ('', 'light', 'dark')),
	avatar BLOB,
	password_hash TEXT,                    -- argon2id PHC string; NULL until the person sets one
	password_changed_at INTEGER,
	email_confirmed_at INTEGER,
	pending_email TEXT COLLATE NOCASE,     -- a new address waiting for confirmation; the old one stays valid
	staff_role TEXT CHECK (staff_role IN ('admin', 'technician')), -- NULL for customers
	disabled_at INTEGER,
	terms_version INTEGER NOT NULL DEFAULT 0,
	setup_shown INTEGER NOT NULL DEFAULT 0, -- "your account is set up" was shown
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER NOT NULL DEFAULT 0,
	last_login_at INTEGER,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE orgs (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	slug TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('manager', 'viewer')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, org_id)
) STRICT;
CREATE INDEX memberships_org ON memberships(org_id);

-- Invitations: org_id NULL with an MSP role invites a staff member.
CREATE TABLE invitations (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('manager', 'viewer', 'admin', 'technician')),
	invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
	token_hash BLOB NOT NULL UNIQUE,       -- SHA-256 of the link's token; the token itself is never stored
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	accepted_at INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE INDEX invitations_user ON invitations(user_id);
CREATE INDEX invitations_org ON invitations(org_id);

-- Password-reset and e-mail-confirmation links.
CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'confirm')),
	token_hash BLOB NOT NULL UNIQUE,
	email TEXT NOT NULL DEFAULT '',        -- for 'confirm': the address being confirmed
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE INDEX tokens_user ON tokens(user_id, purpose);

CREATE TABLE terms (
	version INTEGER PRIMARY KEY,
	text_de TEXT NOT NULL,
	text_en TEXT NOT NULL,
	published_at INTEGER NOT NULL,
	published_by INTEGER REFERENCES users(id) ON DELETE SET NULL
) STRICT;

CREATE TABLE terms_acceptances (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	accepted_at INTEGER NOT NULL,
	ip TEXT NOT NULL,
	PRIMARY KEY (user_id, version)
) STRICT;

-- Portier's sessions per person (the session data itself is in scs's sessions table), so a person can see
-- and end them, and a reset or a disabled account ends them all.
CREATE TABLE user_sessions (
	token TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	ip TEXT NOT NULL,
	user_agent TEXT NOT NULL
) STRICT;
CREATE INDEX user_sessions_user ON user_sessions(user_id);

-- Failed sign-ins per client address, for the per-IP throttle (30 in 10 minutes).
CREATE TABLE ip_failures (
	ip TEXT NOT NULL,
	at INTEGER NOT NULL
) STRICT;
CREATE INDEX ip_failures_ip ON ip_failures(ip, at);

-- Mails sent per account and kind, for cooldowns (60 s) and the hourly cap (5).
CREATE TABLE mail_sends (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	at INTEGER NOT NULL
) STRICT;
CREATE INDEX mail_sends_user ON mail_sends(user_id, kind, at);

-- Append-only audit log.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor_id INTEGER,
	actor_name TEXT NOT NULL DEFAULT '',
	org_id INTEGER,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_org ON audit(org_id, at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

-- Mail outbox: a request enqueues, a worker sends. Subject and bodies may hold one-time links, so they are
-- sealed (AES-GCM bound to this row) and cleared once sent.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	to_addr TEXT NOT NULL,
	sealed BLOB,
	created_at INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	sent_at INTEGER,
	failed_at INTEGER,
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox(sent_at, failed_at, next_attempt_at);

INSERT INTO terms(version, text_de, text_en, published_at) VALUES (1,
'Dieses Portal enthält vertrauliche IT-Dokumentation Ihres Unternehmens. Mit der Nutzung verpflichten Sie sich,
1. Ihre Zugangsdaten und Ihren zweiten Faktor niemandem weiterzugeben,
2. angezeigte Passwörter und Schlüssel nur für dienstliche Zwecke Ihres Unternehmens zu verwenden,
3. Verdacht auf Missbrauch unverzüglich dem Support zu melden.
Jeder Zugriff auf Geheimnisse wird protokolliert; Ihr Unternehmen kann das Protokoll einsehen.',
'This portal holds your company''s confidential IT documentation. By using it you agree
1. not to share your sign-in details or your second factor with anyone,
2. to use revealed passwords and keys only for your company''s business,
3. to report any suspected misuse to support without delay.
Every access to a secret is logged; your company can see that log.',
CAST(strftime('%s','now') AS INTEGER));
