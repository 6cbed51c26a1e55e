-- Documents: Markdown articles (procedures and notes) of an organisation, in folders. org_id NULL is an
-- MSP-wide template that staff copy into organisations. Every saved state is a revision (for the diff).
CREATE TABLE articles (
	id INTEGER PRIMARY KEY,
	org_id INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
	folder TEXT NOT NULL DEFAULT '',
	title TEXT NOT NULL,
	body TEXT NOT NULL DEFAULT '',
	staff_only INTEGER NOT NULL DEFAULT 0,
	emergency INTEGER NOT NULL DEFAULT 0, -- printed in the emergency handbook
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	updated_by_name TEXT NOT NULL DEFAULT '',
	deleted_at INTEGER
) STRICT;
CREATE INDEX articles_org ON articles(org_id, folder, title COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE article_revisions (
	id INTEGER PRIMARY KEY,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	folder TEXT NOT NULL,
	title TEXT NOT NULL,
	body TEXT NOT NULL,
	staff_only INTEGER NOT NULL,
	emergency INTEGER NOT NULL,
	changed_at INTEGER NOT NULL,
	changed_by INTEGER,
	changed_by_name TEXT NOT NULL DEFAULT '',
	UNIQUE (article_id, version)
) STRICT;
