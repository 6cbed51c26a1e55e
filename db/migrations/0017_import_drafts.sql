-- A CSV import waits here between its preview and the confirmation: the uploaded file, sealed (it may
-- hold passwords), for the person, organisation and area that previewed it. Confirming consumes the row
-- in the same transaction that creates the items, so a double click imports once.
CREATE TABLE import_drafts (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	area TEXT NOT NULL,
	data BLOB NOT NULL,                   -- sealed (AES-GCM bound to import_drafts.data.<id>)
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX import_drafts_created ON import_drafts(created_at);
