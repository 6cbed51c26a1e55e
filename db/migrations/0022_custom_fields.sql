-- Fields an MSP administrator adds to an area. Values live with the built-in ones, under the name
-- cf_<id>: plain kinds in doc_items.fields (so search and CSV see them), secrets sealed in doc_secrets.
CREATE TABLE custom_fields (
	id INTEGER PRIMARY KEY,
	area TEXT NOT NULL CHECK (area IN ('configurations', 'contacts', 'passwords', 'wireless', 'vpn')),
	label TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice', 'url', 'secret')),
	options TEXT NOT NULL DEFAULT '', -- a choice list, one option per line
	in_list INTEGER NOT NULL DEFAULT 0,
	expiry INTEGER NOT NULL DEFAULT 0, -- a date that appears in "what expires next"
	position INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX custom_fields_label ON custom_fields(area, label COLLATE NOCASE) WHERE deleted_at IS NULL;
