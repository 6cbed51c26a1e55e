-- Second factors: authenticator apps (TOTP), e-mail codes, passkeys (WebAuthn) and recovery codes.

-- The WebAuthn user handle: 32 random bytes per person, made at the first passkey registration. Never the
-- e-mail address or the row id, so a passkey reveals nothing about the account it belongs to.
ALTER TABLE users ADD COLUMN webauthn_handle BLOB;
CREATE UNIQUE INDEX users_webauthn_handle ON users(webauthn_handle) WHERE webauthn_handle IS NOT NULL;

-- Failed second-factor codes since the last passed second factor. Kept apart from failed_logins, which a
-- correct password resets: otherwise password → 5 wrong codes → password → 5 wrong codes … would never
-- reach the account lock.
ALTER TABLE users ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;

-- One row per enrolled method. Columns are used by kind:
--   totp:    secret (sealed with AES-GCM bound to table mfa_methods, column secret, this row id) and
--            last_step, the last accepted RFC 6238 time step (a code at or below it is a replay);
--   email:   email, the address codes go to (the person's own or a confirmed second one);
--   passkey: credential_id, public_key, sign_count, flags (raw authenticator flags; backup_eligible and
--            backup_state spelled out), transports, aaguid and the attestation format.
CREATE TABLE mfa_methods (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('totp', 'email', 'passkey')),
	name TEXT NOT NULL DEFAULT '',
	secret BLOB,
	last_step INTEGER NOT NULL DEFAULT 0,
	email TEXT COLLATE NOCASE,
	credential_id BLOB UNIQUE,
	public_key BLOB,
	sign_count INTEGER NOT NULL DEFAULT 0,
	flags INTEGER NOT NULL DEFAULT 0,
	backup_eligible INTEGER NOT NULL DEFAULT 0,
	backup_state INTEGER NOT NULL DEFAULT 0,
	transports TEXT NOT NULL DEFAULT '',
	aaguid BLOB,
	attestation_format TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_used_at INTEGER
) STRICT;
CREATE INDEX mfa_methods_user ON mfa_methods(user_id, kind);

-- Recovery codes: only HMAC-SHA256 with a purpose key derived from secret.key is stored, so a copy of the
-- database alone does not reveal them. Single use by a conditional UPDATE on used_at.
CREATE TABLE recovery_codes (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	code_hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	used_at INTEGER
) STRICT;
CREATE INDEX recovery_codes_user ON recovery_codes(user_id, code_hash);

-- E-mail codes (6 digits, HMAC-stored), bound to one sign-in attempt (a random id kept in that session),
-- valid 10 minutes, single use, void after 5 wrong tries. purpose 'login' proves an enrolled address at
-- sign-in; 'enrol' proves a new address before it becomes a method.
CREATE TABLE email_codes (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	purpose TEXT NOT NULL CHECK (purpose IN ('login', 'enrol')),
	attempt TEXT NOT NULL,
	email TEXT NOT NULL,
	code_hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	tries INTEGER NOT NULL DEFAULT 0,
	used_at INTEGER
) STRICT;
CREATE INDEX email_codes_attempt ON email_codes(user_id, purpose, attempt);

