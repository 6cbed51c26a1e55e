-- An invitation is not a membership until it is accepted. Until now sending one gave the membership (or
-- the staff role) at once, and revoking it took nothing back from anyone who had a password: a customer's
-- manager could invite another organisation's manager and then act on that account.

-- The name the inviter typed, shown in the inviter's list of invitations. The person's own name (of an
-- account that exists already) is not the inviter's to see.
ALTER TABLE invitations ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE invitations SET name = (SELECT u.name FROM users u WHERE u.id = invitations.user_id)
	WHERE user_id IN (SELECT id FROM users WHERE password_hash IS NULL);

-- Take back what only an unaccepted invitation gave. A membership or staff role that came with an
-- accepted invitation, or without any invitation (set up directly), stays.
DELETE FROM memberships WHERE
	EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = memberships.user_id AND i.org_id = memberships.org_id)
	AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = memberships.user_id
		AND i.org_id = memberships.org_id AND i.accepted_at IS NOT NULL);
UPDATE users SET staff_role = NULL WHERE staff_role IS NOT NULL
	AND EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = users.id AND i.org_id IS NULL)
	AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = users.id AND i.org_id IS NULL
		AND i.accepted_at IS NOT NULL);
