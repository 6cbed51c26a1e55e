-- Related items (issue 13): a link joins two items of one organisation, in any areas, with an optional
-- label. It is undirected and stored once, smaller id first, so both sides read the same row and a pair
-- cannot be linked twice. Deleting an item (soft: deleted_at) leaves its links in place and every read
-- skips links whose other side is deleted, so restoring the item brings them back; purging an item
-- removes them with it (ON DELETE CASCADE).
CREATE TABLE doc_links (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	a_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	b_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	label TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	created_by_name TEXT NOT NULL DEFAULT '',
	CHECK (a_id < b_id),
	UNIQUE (a_id, b_id)
) STRICT;
CREATE INDEX doc_links_b ON doc_links(b_id);

-- What happened to links, for both items' history (the links themselves are gone once removed). Names
-- are kept as they were, like doc_versions keeps names.
CREATE TABLE doc_link_events (
	id INTEGER PRIMARY KEY,
	a_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	b_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	change TEXT NOT NULL CHECK (change IN ('link', 'unlink')),
	a_name TEXT NOT NULL,
	b_name TEXT NOT NULL,
	label TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL,
	by_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX doc_link_events_a ON doc_link_events(a_id, at);
CREATE INDEX doc_link_events_b ON doc_link_events(b_id, at);
