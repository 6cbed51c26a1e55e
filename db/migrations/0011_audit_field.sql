-- Which secret field a reveal or copy was about ("password", "totp", "key" …; '' for entries about no
-- field). The once-per-five-minutes rule for reveals is kept per person, item AND field, so showing a
-- stored password's one-time code after its password is its own entry; the target text cannot carry this
-- (it holds the field's label in the viewer's language).
ALTER TABLE audit ADD COLUMN field TEXT NOT NULL DEFAULT '';
