-- An invitation shows the address it was sent to, not the one its person has now: an organisation that
-- once invited someone must not read their later (perhaps private) address on its invitations list. A
-- confirmed change of address revokes the open ones, so for those both are the same.
ALTER TABLE invitations ADD COLUMN email TEXT NOT NULL DEFAULT '';
UPDATE invitations SET email = (SELECT u.email FROM users u WHERE u.id = invitations.user_id);
