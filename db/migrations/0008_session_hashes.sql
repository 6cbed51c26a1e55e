-- A session token is a bearer credential: whoever holds it is signed in. The store keeps only the SHA-256
-- of each token (hash), so the database file, its WAL and every backup are harmless without the cookie.
-- The old tables held tokens in the clear, and so do backups made before this migration: dropping them
-- signs everybody out once, which is the point (a token read from an old backup must not sign in).
DROP TABLE user_sessions;
DROP TABLE sessions;

-- scs's session data, keyed by the token's hash (expiry is a Julian day number, as scs's store wrote it).
CREATE TABLE sessions (
	hash BLOB PRIMARY KEY,
	data BLOB NOT NULL,
	expiry REAL NOT NULL
) STRICT;
CREATE INDEX sessions_expiry_idx ON sessions(expiry);

-- The person's list of their sessions. A signed-in session is accepted only while its row is here and its
-- epoch equals the person's session_epoch: ending sessions (password change or reset, sign out
-- everywhere, second-factor reset, disabling) deletes the rows and raises the epoch, so neither a request
-- that was in flight at that moment nor a sign-in that checked the password before it can bring one back.
CREATE TABLE user_sessions (
	hash BLOB PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	epoch INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	ip TEXT NOT NULL,
	user_agent TEXT NOT NULL
) STRICT;
CREATE INDEX user_sessions_user ON user_sessions(user_id);

ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
