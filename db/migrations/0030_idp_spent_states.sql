-- The state of every provider round trip that came back, by its SHA-256, until the round trip would have
-- expired anyway: the primary key decides that one answer is used once, also when the browser sends it
-- several times at once (the session alone cannot: parallel requests each read it before any writes it).
CREATE TABLE idp_spent_states (
	state_hash BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
