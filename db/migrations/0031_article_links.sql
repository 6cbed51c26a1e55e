-- Documents that connect (issue 13): a link joins a document (articles) and an item of the same
-- organisation, with an optional label. Like doc_links, a soft-deleted document or item keeps its links
-- and every read skips the deleted side, so a restore brings them back; removing the row for good removes
-- its links (ON DELETE CASCADE). org_id is the organisation both sides belong to (checked when linking).
CREATE TABLE article_links (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	label TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	created_by_name TEXT NOT NULL DEFAULT '',
	UNIQUE (article_id, item_id)
) STRICT;
CREATE INDEX article_links_item ON article_links(item_id);

-- Link changes for the history of both sides; names as they were at the time.
CREATE TABLE article_link_events (
	id INTEGER PRIMARY KEY,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	change TEXT NOT NULL CHECK (change IN ('link', 'unlink')),
	article_title TEXT NOT NULL,
	item_name TEXT NOT NULL,
	label TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL,
	by_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX article_link_events_article ON article_link_events(article_id, at);
CREATE INDEX article_link_events_item ON article_link_events(item_id, at);

-- Full text of the organisations' documents (templates, org_id NULL, are not searched). The org column
-- holds 'o<id>' as in doc_fts, so a search visits only the organisation's matches. Deleted documents keep
-- their row (a restore needs nothing); searches join articles and skip them, and staff-only ones for
-- customers.
CREATE VIRTUAL TABLE article_fts USING fts5(title, body, org, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO article_fts(rowid, title, body, org) SELECT id, title, body, 'o' || org_id FROM articles WHERE org_id IS NOT NULL;
