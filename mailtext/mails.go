package mailtext

import (
	"context"
	"time"

	"portier/db"
	"portier/mail"
)

// The mails, one function each: what the person reads, in their language. Nothing secret is in them
// except the one-time link or code they exist to carry.

// Invitation is the mail that carries an invitation's link. inviter "" names the MSP as the inviter (the
// command line, the first administrator).
func (c *Composer) Invitation(ctx context.Context, inv *db.Invitation, link, inviter string) (mail.Message, error) {
	msp := c.msp().Name
	if inviter == "" {
		inviter = msp
	}
	greet := inv.PersonName
	if greet == "" {
		greet = inv.Name
	}
	m, l := c.Start(inv.Lang, greet, "mail.invite.subject", "inviter", inviter, "msp", msp)
	place := inv.OrgName
	if inv.OrgID == 0 {
		place = msp
	}
	m.Paragraphs = []string{
		l.T("mail.invite.body", "inviter", inviter, "email", inv.Email, "org", place, "role", l.T("role."+inv.Role), "msp", msp),
		l.T("mail.invite.steps"),
	}
	m.ButtonText = l.T("mail.invite.button")
	m.ButtonURL = link
	m.After = []string{
		l.T("mail.invite.expiry", "date", l.DateTime(inv.ExpiresAt)),
		l.T("mail.invite.lost", "url", c.Link("/forgot")),
	}
	return c.Render(ctx, inv.Email, m)
}

// PasswordReset tells the person that their password was reset through a link, and what to do if it was
// not them. Nothing secret is in it.
func (c *Composer) PasswordReset(ctx context.Context, u *db.User, at time.Time) (mail.Message, error) {
	msp := c.msp().Name
	m, l := c.Start(u.Lang, u.Name, "mail.pwchanged.subject", "msp", msp)
	when := c.bundle.For(u.Lang, u.TimeZone).DateTime(at)
	m.Paragraphs = []string{
		l.T("mail.pwchanged.body", "email", u.Email, "msp", msp, "date", when),
		l.T("mail.pwchanged.ok"),
	}
	m.After = []string{l.T("mail.pwchanged.notyou", "contact", c.SupportContact(), "url", c.Link("/forgot"))}
	return c.Render(ctx, u.Email, m)
}

// Confirmation carries the link that confirms email as the person's address.
func (c *Composer) Confirmation(ctx context.Context, u *db.User, email, link string, ttl time.Duration) (mail.Message, error) {
	m, l := c.Start(u.Lang, u.Name, "mail.confirm.subject", "msp", c.msp().Name)
	m.Paragraphs = []string{l.T("mail.confirm.body", "email", email)}
	m.ButtonText = l.T("mail.confirm.button")
	m.ButtonURL = link
	m.After = []string{l.N("mail.confirm.expiry", int(ttl.Hours())), l.T("mail.not_you")}
	return c.Render(ctx, email, m)
}

// ResetLink carries a password-reset link; someone who never set a password is asked to set one.
func (c *Composer) ResetLink(ctx context.Context, u *db.User, link string, ttl time.Duration) (mail.Message, error) {
	msp := c.msp().Name
	kind := "mail.reset"
	if u.PasswordHash == "" {
		kind = "mail.setpw"
	}
	m, l := c.Start(u.Lang, u.Name, kind+".subject", "msp", msp)
	m.Paragraphs = []string{l.T(kind+".body", "email", u.Email, "msp", msp)}
	m.ButtonText = l.T(kind + ".button")
	m.ButtonURL = link
	m.After = []string{l.N("mail.reset.expiry", int(ttl.Minutes())), l.T("mail.not_you")}
	return c.Render(ctx, u.Email, m)
}

// PasswordChanged tells the person that they changed their password on their profile.
func (c *Composer) PasswordChanged(ctx context.Context, u *db.User, at time.Time) (mail.Message, error) {
	m, l := c.Start(u.Lang, u.Name, "mail.password_changed.subject", "msp", c.msp().Name)
	m.Paragraphs = []string{l.T("mail.password_changed.body", "email", u.Email, "date", l.DateTime(at))}
	m.After = []string{l.T("mail.password_changed.not_you", "url", c.Link("/forgot"))}
	return c.Render(ctx, u.Email, m)
}

// EmailChangeNotice tells the current address that a change to addr was requested. It has no link: nothing
// to click in a mail that might not be expected.
func (c *Composer) EmailChangeNotice(ctx context.Context, u *db.User, addr string) (mail.Message, error) {
	m, l := c.Start(u.Lang, u.Name, "mail.email_change.subject", "msp", c.msp().Name)
	m.Paragraphs = []string{l.T("mail.email_change.body", "old", u.Email, "new", addr)}
	m.After = []string{l.T("mail.email_change.not_you", "url", c.Link("/forgot"))}
	return c.Render(ctx, u.Email, m)
}

// FactorRemoved tells the person that their second factor (kind, name) was removed at at from device
// ("Chrome on Windows", named in their language), with a way back if it was not them.
func (c *Composer) FactorRemoved(ctx context.Context, u *db.User, kind, name, device string, at time.Time) (mail.Message, error) {
	msp := c.msp().Name
	m, l := c.Start(u.Lang, u.Name, "mail.mfa_removed.subject", "msp", msp)
	m.Paragraphs = []string{l.T("mail.mfa_removed.body", "kind", l.T("mfa.kind."+kind), "name", name,
		"email", u.Email, "date", c.bundle.For(u.Lang, u.TimeZone).DateTime(at), "browser", device)}
	m.ButtonText = l.T("mail.mfa_removed.button")
	m.ButtonURL = c.Link("/security")
	m.After = []string{l.T("mail.mfa_removed.not_you", "msp", msp)}
	return c.Render(ctx, u.Email, m)
}

// SecondFactorsReset tells the person that actorName reset their second factors.
func (c *Composer) SecondFactorsReset(ctx context.Context, u *db.User, actorName string) (mail.Message, error) {
	msp := c.msp().Name
	m, l := c.Start(u.Lang, u.Name, "mail.mfa_reset.subject", "msp", msp)
	m.Paragraphs = []string{l.T("mail.mfa_reset.body", "actor", actorName, "msp", msp)}
	m.ButtonText = l.T("mail.mfa_reset.button")
	m.ButtonURL = c.Link("/login")
	m.After = []string{l.T("mail.mfa_reset.not_you", "msp", msp)}
	return c.Render(ctx, u.Email, m)
}

// EmailCode carries a sign-in code (purpose "login") or the code that confirms a new e-mail method
// (purpose "enrol") to addr; it is valid for ttl.
func (c *Composer) EmailCode(ctx context.Context, u *db.User, addr, code, purpose string, ttl time.Duration) (mail.Message, error) {
	msp := c.msp().Name
	m, l := c.Start(u.Lang, u.Name, "mail.mfa_code.subject", "msp", msp)
	body := "mail.mfa_code.body"
	if purpose == "enrol" {
		body = "mail.mfa_code.enrol"
	}
	m.Paragraphs = []string{
		l.T(body, "msp", msp, "email", u.Email),
		code,
		l.N("mail.mfa_code.expiry", int(ttl.Minutes())),
	}
	m.After = []string{l.T("mail.mfa_code.not_you")}
	return c.Render(ctx, addr, m)
}
