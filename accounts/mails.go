package accounts

import (
	"context"
	"errors"
	"time"

	"portier/auth"
	"portier/db"
)

// SendConfirmation mails a link that confirms email as u's address, within the mail throttle (a withheld
// mail changes nothing in the answer).
func (a *Accounts) SendConfirmation(ctx context.Context, u *db.User, email string, actor db.AuditEntry) error {
	// A disabled account's links work no more than revoked ones (linkState): a mail with one would only
	// send its reader round in circles ("a newer link was sent"). The callers answer the same either way.
	if u.Disabled {
		return nil
	}
	ok, err := a.db.MailAllowed(ctx, u.ID, "confirm")
	if err != nil || !ok {
		return err
	}
	raw, hash := auth.NewToken()
	if err := a.db.CreateToken(ctx, u.ID, db.PurposeConfirm, hash, email, a.cfg.ConfirmTTL); err != nil {
		return err
	}
	m, err := a.mails.Confirmation(ctx, u, email, a.mails.Link("/confirm/"+raw), a.cfg.ConfirmTTL)
	if err != nil {
		return err
	}
	actor.Action, actor.Target = "email.confirm_sent", email
	actor.ActorID, actor.ActorName = u.ID, u.DisplayName()
	return a.mailOut(ctx, m, actor)
}

// ResendConfirmation sends the confirmation link again to email, if someone waits for it: an account that
// asked to switch to it, or one whose own address is unconfirmed. The caller answers the same either way.
func (a *Accounts) ResendConfirmation(ctx context.Context, email string, actor db.AuditEntry) error {
	// The account that holds the address comes first: an address someone else asked to switch to is
	// theirs, and its owner is never mailed a link for another person's account (a change to a taken
	// address is stored as waiting, so that the profile does not tell it is taken).
	u, err := a.db.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if !u.EmailConfirmed {
			return a.SendConfirmation(ctx, u, email, actor)
		}
		return nil
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	u, err = a.db.UserByPendingEmail(ctx, email)
	switch {
	case err == nil:
		return a.SendConfirmation(ctx, u, email, actor)
	case errors.Is(err, db.ErrNotFound):
		return nil
	}
	return err
}

// ResetTTL is how long a password-reset link works.
func (a *Accounts) ResetTTL() time.Duration { return a.cfg.ResetTTL }

// ForgotPassword sends a reset link to email when it belongs to an account that may have one, and
// audits the request either way. The caller answers the same words whatever happened.
func (a *Accounts) ForgotPassword(ctx context.Context, email string, actor db.AuditEntry) error {
	u, err := a.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	ok := false
	if u != nil {
		if ok, err = a.resetAllowed(ctx, u); err != nil {
			return err
		}
	}
	if ok {
		return a.sendReset(ctx, u, actor)
	}
	// Recorded by domain only, like a failed sign-in.
	actor.Action, actor.Target = "password.forgot", domainOnly(email)
	if u != nil {
		actor.ActorID, actor.ActorName = u.ID, u.DisplayName()
	}
	return a.db.Audit(ctx, nil, actor)
}

// resetAllowed: enabled accounts that have a password, or that were invited and still have a place to go
// (a staff role, a membership or an invitation that can still be accepted). Someone whose only invitation
// was revoked gets nothing.
func (a *Accounts) resetAllowed(ctx context.Context, u *db.User) (bool, error) {
	if u.Disabled {
		return false, nil
	}
	if u.PasswordHash != "" || u.IsStaff() {
		return true, nil
	}
	ms, err := a.db.Memberships(ctx, u.ID)
	if err != nil || len(ms) > 0 {
		return len(ms) > 0, err
	}
	return a.db.HasOpenInvitation(ctx, u.ID)
}

// sendReset queues the link mail in the person's language, revoking their older link, within the mail
// throttle (60 s cooldown, 5 an hour).
func (a *Accounts) sendReset(ctx context.Context, u *db.User, actor db.AuditEntry) error {
	ok, err := a.db.MailAllowed(ctx, u.ID, "reset")
	if err != nil || !ok {
		return err
	}
	raw, hash := auth.NewToken()
	if err := a.db.CreateToken(ctx, u.ID, db.PurposeReset, hash, u.Email, a.cfg.ResetTTL); err != nil {
		return err
	}
	m, err := a.mails.ResetLink(ctx, u, a.mails.Link("/reset/"+raw), a.cfg.ResetTTL)
	if err != nil {
		return err
	}
	actor.Action, actor.Target = "password.forgot", u.Email
	actor.ActorID, actor.ActorName = u.ID, u.DisplayName()
	return a.mailOut(ctx, m, actor)
}

// ChangeEmail asks to switch u's sign-in address to addr (normalized, valid, not u's own; the caller
// checked the password). The new address gets a confirmation link and the old one a notice; until the link
// is used, the old address stays valid. An address another account uses gets no link, and the caller gives
// the same answer, so the form cannot tell who has an account.
func (a *Accounts) ChangeEmail(ctx context.Context, u *db.User, addr string, actor db.AuditEntry) error {
	taken, err := a.db.EmailTaken(ctx, addr, u.ID)
	if err != nil {
		return err
	}
	// An address of someone else's account leaves the same traces as a free one — the waiting address on
	// the profile, the notice to the current address (and the caller's answer time) — so the form does
	// not tell which addresses have an account. Only a free address gets a confirmation link; a taken one
	// can never be confirmed (ConfirmEmail refuses it) and resending never mails its owner
	// (ResendConfirmation).
	if err := a.db.SetPendingEmail(ctx, u.ID, addr); err != nil {
		return err
	}
	e := actor
	if taken {
		e.Action, e.Target = "email.change_taken", addr
		a.audits.Record(ctx, e)
	} else {
		e.Action, e.Target = "email.change_request", addr
		a.audits.Record(ctx, e)
		if err := a.SendConfirmation(ctx, u, addr, actor); err != nil {
			return err
		}
	}
	// The notice to the current address, within its own throttle.
	ok, err := a.db.MailAllowed(ctx, u.ID, "email_notice")
	if err != nil || !ok {
		return err
	}
	m, err := a.mails.EmailChangeNotice(ctx, u, addr)
	if err != nil {
		return err
	}
	return a.mailOut(ctx, m, db.AuditEntry{})
}
