-- "Has this person revealed (or viewed) this item in the last five minutes?" is asked on every detail
-- page and reveal. With the target in the index it reads the one item's entries, not every entry of the
-- person in the window (measured with `portier bench`: 40% of a detail page). Replaces 0004's index.
DROP INDEX audit_actor_action;
CREATE INDEX audit_actor_target ON audit(actor_id, action, target, at);
