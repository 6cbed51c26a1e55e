-- Second-factor sign-in attempts: how many wrong codes each attempt (one password entry) has used. The
-- count lives here, not in the session, so parallel requests of one session cannot each start from a
-- fresh count: every code is reserved here (a conditional write) before it is checked, and the fifth
-- wrong one voids the attempt. The attempt id is the random id kept in the session (e-mail codes are
-- bound to it too).
CREATE TABLE mfa_attempts (
	id TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	fails INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX mfa_attempts_user ON mfa_attempts(user_id);
