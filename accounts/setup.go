package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
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
	stored, err := a.setupLinkStored(ctx, raw)
	return stored != "", err
}

// setupLinkStored is the stored value that the setup token matches while it is valid, "" otherwise.
func (a *Accounts) setupLinkStored(ctx context.Context, raw string) (string, error) {
	hash, err := auth.HashToken(raw)
	if err != nil {
		return "", nil
	}
	stored, err := a.db.Setting(ctx, "setup.token", "")
	if err != nil || stored == "" {
		return "", err
	}
	hexHash, until, _ := strings.Cut(stored, " ")
	want, err := hex.DecodeString(hexHash)
	if err != nil || len(want) != sha256.Size || subtle.ConstantTimeCompare(want, hash) != 1 {
		return "", nil
	}
	exp, err := time.Parse(time.RFC3339, until)
	if err != nil || !a.now().Before(exp) {
		return "", nil
	}
	if n, err := a.db.AdminsOrInvited(ctx); err != nil || n > 0 {
		return "", err
	}
	return stored, nil
}

// InviteFirstAdmin invites the first administrator through the setup link raw and spends the link;
// ErrLinkUsed when the link is not (or no longer) valid. Whoever holds the link acts as the operator: it
// was printed on the server's console. The invitation is like any other (same checks) but without its
// mail, since the browser goes straight on to its "set your password" page. After the first sign-in the
// administrator names the MSP (handlers' setup step, which saves through SaveSettings).
func (a *Accounts) InviteFirstAdmin(ctx context.Context, raw, email, name, lang string, actor db.AuditEntry) (Sent, error) {
	stored, err := a.setupLinkStored(ctx, raw)
	if err != nil {
		return Sent{}, err
	}
	// The link is spent before anyone is invited, by a conditional write: of parallel posts through one
	// link exactly one invites an administrator (checking and then clearing let each of them invite one).
	if stored == "" {
		return Sent{}, ErrLinkUsed
	}
	if took, err := a.db.SwapSetting(ctx, "setup.token", stored, ""); err != nil {
		return Sent{}, err
	} else if !took {
		return Sent{}, ErrLinkUsed
	}
	actor.ActorName = name
	sent, err := a.Invite(ctx, InviteRequest{Email: email, Name: name, Lang: lang, Role: access.Admin, By: access.Operator(), Actor: actor, NoMail: true})
	if err != nil {
		// Nobody was invited: the link works again, unless a restart printed a new one meanwhile.
		if _, rerr := a.db.SwapSetting(ctx, "setup.token", "", stored); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore setup link: %w", rerr))
		}
		return sent, err
	}
	return sent, nil
}
