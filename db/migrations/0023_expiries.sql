-- What expires next: licences, certificates, domains and contracts of an organisation, each with its date.
CREATE TABLE expiries (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('licence', 'certificate', 'domain', 'contract')),
	name TEXT NOT NULL,
	expires_on TEXT NOT NULL CHECK (date(expires_on) IS expires_on), -- YYYY-MM-DD
	notes TEXT NOT NULL DEFAULT '',
	staff_only INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX expiries_org ON expiries(org_id, expires_on);

-- The weekly digest of an organisation: to whom (addresses, one per line; none: no digest), in which
-- language, and when it last went out (the scheduler's claim, see ClaimExpiryDigest).
CREATE TABLE expiry_digests (
	org_id INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
	recipients TEXT NOT NULL DEFAULT '',
	lang TEXT NOT NULL DEFAULT 'de',
	last_sent_at INTEGER NOT NULL DEFAULT 0
) STRICT;
