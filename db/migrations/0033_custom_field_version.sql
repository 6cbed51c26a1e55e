-- A custom field's definition is changed only from the version its editor saw (two administrators at
-- once: the second save is refused, not silently undoing the first's choices or label).
ALTER TABLE custom_fields ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
