package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"portier/access"
	"portier/auth"
	"portier/db"
)

// The first administrator of a new installation is made through a one-time setup link that `serve`
// prints on the console (only the person at the console can use it), so a first run needs neither a mail
// server nor the command line. The link works until an administrator exists, for at most a day.
const setupTTL = 24 * time.Hour

// FirstAdminLink returns a fresh setup link when no administrator exists or is invited yet ("" otherwise).
// Each call replaces the previous link; only its hash is stored.
func (a *Accounts) FirstAdminLink(ctx context.Context) (string, error) {
	n, err := a.db.AdminsOrInvited(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	raw, hash := auth.NewToken()
	value := hex.EncodeToString(hash) + " " + a.now().Add(setupTTL).UTC().Format(time.RFC3339)
	if err := a.db.SetSetting(ctx, "setup.token", value); err != nil {
		return "", err
	}
	return a.mails.Link("/setup/" + raw), nil
}

// SetupLinkValid checks a setup token against the stored hash and expiry, and that no administrator
// exists yet.
func (a *Accounts) SetupLinkValid(ctx context.Context, raw string) (bool, error) {
	hash, err := auth.HashToken(raw)
	if err != nil {
		return false, nil
	}
	stored, err := a.db.Setting(ctx, "setup.token", "")
	if err != nil || stored == "" {
		return false, err
	}
	hexHash, until, _ := strings.Cut(stored, " ")
	want, err := hex.DecodeString(hexHash)
	if err != nil || len(want) != sha256.Size || subtle.ConstantTimeCompare(want, hash) != 1 {
		return false, nil
	}
	exp, err := time.Parse(time.RFC3339, until)
	if err != nil || !a.now().Before(exp) {
		return false, nil
	}
	n, err := a.db.AdminsOrInvited(ctx)
	return n == 0, err
}

// InviteFirstAdmin invites the first administrator through the setup link (checked with SetupLinkValid)
// and retires the link. Whoever holds the link acts as the operator: it was printed on the server's
// console. The invitation is like any other (same checks, same mail).
func (a *Accounts) InviteFirstAdmin(ctx context.Context, email, name, lang string, actor db.AuditEntry) (Sent, error) {
	actor.ActorName = name
	sent, err := a.Invite(ctx, InviteRequest{Email: email, Name: name, Lang: lang, Role: access.Admin, By: access.Operator(), Actor: actor})
	if err != nil {
		return sent, err
	}
	return sent, a.db.SetSetting(ctx, "setup.token", "")
}
