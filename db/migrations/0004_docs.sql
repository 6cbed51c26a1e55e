-- The documentation: one row per item of any of the five areas. Non-secret fields are JSON (their
-- definitions live in package docs); secret fields are sealed in doc_secrets, bound to item and field.
CREATE TABLE doc_items (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	area TEXT NOT NULL CHECK (area IN ('configurations', 'contacts', 'passwords', 'wireless', 'vpn')),
	name TEXT NOT NULL,
	fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
	staff_only INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	updated_by_name TEXT NOT NULL DEFAULT '',
	deleted_at INTEGER
) STRICT;
CREATE INDEX doc_items_list ON doc_items(org_id, area, name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE doc_secrets (
	item_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	field TEXT NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (item_id, field)
) STRICT;

-- Every state an item has had, newest version last; secrets of each version are sealed to that version row.
CREATE TABLE doc_versions (
	id INTEGER PRIMARY KEY,
	item_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	change TEXT NOT NULL CHECK (change IN ('create', 'update', 'delete', 'restore')),
	name TEXT NOT NULL,
	fields TEXT NOT NULL,
	staff_only INTEGER NOT NULL,
	secret_fields TEXT NOT NULL DEFAULT '', -- comma-separated names of the secrets that changed
	changed_at INTEGER NOT NULL,
	changed_by INTEGER,
	changed_by_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX doc_versions_item ON doc_versions(item_id, version);

CREATE TABLE doc_secret_versions (
	version_id INTEGER NOT NULL REFERENCES doc_versions(id) ON DELETE CASCADE,
	field TEXT NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (version_id, field)
) STRICT;

-- Full-text search over names, notes and the other non-secret fields; rowid = doc_items.id.
CREATE VIRTUAL TABLE doc_fts USING fts5(name, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE INDEX audit_actor_action ON audit(actor_id, action, at);
