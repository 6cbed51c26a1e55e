-- Attachments (issue 13): files on an item, inside the database so backups and replication carry them.
-- The content is sealed in chunks of 64 KiB (db/attachments.go): each chunk its own row, so a file streams
-- in and out without being held in memory, and each chunk's seal names the attachment, the chunk's
-- number and whether it is the last, so dropping, reordering or moving chunks is detected.
-- complete = 0 while an upload is under way: such rows are invisible and removed when left behind.
CREATE TABLE doc_attachments (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL REFERENCES doc_items(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	staff_only INTEGER NOT NULL DEFAULT 0,
	complete INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	created_by_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX doc_attachments_item ON doc_attachments(item_id, complete);

CREATE TABLE doc_attachment_chunks (
	attachment_id INTEGER NOT NULL REFERENCES doc_attachments(id) ON DELETE CASCADE,
	n INTEGER NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (attachment_id, n)
) STRICT;

-- Previews of pictures: a re-encoded PNG thumbnail (never the uploaded bytes), sealed like the content.
CREATE TABLE doc_attachment_thumbs (
	attachment_id INTEGER PRIMARY KEY REFERENCES doc_attachments(id) ON DELETE CASCADE,
	sealed BLOB NOT NULL
) STRICT;
