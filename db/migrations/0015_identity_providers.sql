-- OpenID Connect identity providers, one per organisation, and the provider accounts linked to people.

CREATE TABLE idps (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL UNIQUE REFERENCES orgs(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('entra', 'google', 'oidc')),
	name TEXT NOT NULL,                   -- shown on the buttons: "Continue with <name>"
	tenant TEXT NOT NULL DEFAULT '',      -- Entra: tenant id or 'organizations'; Google: hosted domain
	issuer TEXT NOT NULL DEFAULT '',      -- any other provider: its issuer (discovery) URL
	client_id TEXT NOT NULL,
	client_secret BLOB,                   -- sealed (AES-GCM bound to idps.client_secret.<id>)
	domains TEXT NOT NULL DEFAULT '',     -- e-mail domains the provider vouches for, one per line
	mfa_acr TEXT NOT NULL DEFAULT '',     -- acr values that count as a second factor, space-separated
	require_portier_mfa INTEGER NOT NULL DEFAULT 0, -- ask for Portier's own factor whatever the provider says
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- A person's provider account. subject is the provider's stable key ("iss sub"; Entra: "entra tid oid"):
-- unique across providers, so one provider account opens exactly one Portier account.
CREATE TABLE user_identities (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	idp_id INTEGER NOT NULL REFERENCES idps(id) ON DELETE CASCADE,
	subject TEXT NOT NULL UNIQUE,
	email TEXT NOT NULL DEFAULT '',       -- the address the provider reported when linked (shown to staff only)
	created_at INTEGER NOT NULL,
	last_used_at INTEGER
) STRICT;
CREATE INDEX user_identities_user ON user_identities(user_id);
CREATE INDEX user_identities_idp ON user_identities(idp_id);
