-- WebAuthn challenges that were answered. A ceremony's challenge lives in the session, and parallel
-- requests of one session all read it before any of them saves the session without it; for a passkey that
-- keeps its signature counter at 0 (synced passkeys do) the counter cannot tell a replay either. So each
-- answer first spends its challenge here, by an insert whose row count decides: one answer per challenge.
-- Only the SHA-256 of a challenge is kept, until the ceremony could no longer be finished anyway.
CREATE TABLE webauthn_challenges (
	hash BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_at);
