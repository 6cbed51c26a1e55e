-- An open invitation stands on its sender's authority: when the sender loses it (removed, demoted,
-- disabled), accounts withdraws the invitations they sent that are still open. This index finds them.
CREATE INDEX invitations_open_by_sender ON invitations(invited_by) WHERE accepted_at IS NULL AND revoked_at IS NULL;
