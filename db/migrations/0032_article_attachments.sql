-- Files on documents (issue 13), stored exactly like files on items (0020_doc_attachments.sql): sealed
-- 64 KiB chunks, invisible until complete, previews re-encoded. Tables of their own rather than a second
-- owner column on doc_attachments: its item_id is NOT NULL, and rebuilding it would cascade-delete every
-- stored chunk. The chunks' seals name their table, so a chunk cannot move between the two kinds of file.
CREATE TABLE article_attachments (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	staff_only INTEGER NOT NULL DEFAULT 0,
	complete INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	created_by_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX article_attachments_article ON article_attachments(article_id, complete);

CREATE TABLE article_attachment_chunks (
	attachment_id INTEGER NOT NULL REFERENCES article_attachments(id) ON DELETE CASCADE,
	n INTEGER NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (attachment_id, n)
) STRICT;

CREATE TABLE article_attachment_thumbs (
	attachment_id INTEGER PRIMARY KEY REFERENCES article_attachments(id) ON DELETE CASCADE,
	sealed BLOB NOT NULL
) STRICT;
