-- Speed with many organisations (issue 6, measured with `portier bench`):
-- * The full-text index gets the organisation as a third column ("o<id>"), so a search inside one
--   organisation matches only that organisation's rows instead of ranking every match of every
--   organisation and throwing most away (15-27 ms → about 1 ms with 100,000 items). FTS5 tables cannot get
--   a column added, so the index is rebuilt from its own content.
-- * The menu counts and the list totals read a covering index instead of every item row (a customer's
--   count needs staff_only, which the list index lacks; deleted_at is in it so the index covers the query).
CREATE VIRTUAL TABLE doc_fts_new USING fts5(name, body, org, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO doc_fts_new(rowid, name, body, org)
	SELECT f.rowid, f.name, f.body, 'o' || i.org_id FROM doc_fts f JOIN doc_items i ON i.id = f.rowid;
DROP TABLE doc_fts;
ALTER TABLE doc_fts_new RENAME TO doc_fts;
CREATE INDEX doc_items_counts ON doc_items(org_id, area, staff_only, deleted_at) WHERE deleted_at IS NULL;
