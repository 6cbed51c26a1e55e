package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// forgotFloor is the least time every answer to "forgot password" takes. A known address costs a few more
// database writes (throttle record, token, outbox) than an unknown one; waiting out the difference keeps
// the answer time from telling which addresses have an account. The mail itself goes through the outbox,
// so SMTP timing never shows.
const forgotFloor = 250 * time.Millisecond

// waitFloor waits until forgotFloor has passed since start (or the client left). Every form that mails
// someone when an address is known (forgot password, resend confirmation) answers through it.
func waitFloor(ctx context.Context, start time.Time) {
	if wait := forgotFloor - time.Since(start); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// ValidEmail reports whether s is a plain e-mail address (no display name, no angle brackets) of at most
// 254 bytes (RFC 5321's limit on a path). The web forms and the command line both use it.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s, "@")
}

func (s *Server) forgotPage(c *echo.Context) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.Forgot(s.shell(c, l.T("forgot.title")), views.ForgotView{}), nil)
}

// forgot sends a link to choose a password. The answer has the same words, status and (roughly) time for
// every well-formed address; only known, enabled accounts get mail, within the mail throttle. Invited
// people who never set a password use exactly this route (seeds 000 and 004); their mail says "set your
// password".
func (s *Server) forgot(c *echo.Context) error {
	start := time.Now()
	ctx := c.Request().Context()
	ip := c.RealIP()
	if wait, err := s.db.IPBlocked(ctx, ip); err != nil {
		return err
	} else if wait > 0 {
		return &tooMany{retryAfter: wait}
	}
	l := i18n.From(ctx)
	email := strings.TrimSpace(c.FormValue("email"))
	v := views.ForgotView{Email: email}
	switch {
	case email == "":
		v.ErrorKey = "forgot.email.required"
	case !ValidEmail(email):
		v.ErrorKey = "forgot.email.invalid"
		v.Email = truncateUTF8(email, 254)
	}
	if v.ErrorKey != "" {
		return s.render(c, http.StatusUnprocessableEntity, views.Forgot(s.shell(c, l.T("forgot.title")), v), nil)
	}
	email = db.NormalizeEmail(email)
	u, err := s.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	ok := false
	if u != nil {
		if ok, err = s.resetAllowed(ctx, u); err != nil {
			return err
		}
	}
	if ok {
		err = s.sendReset(ctx, c, u)
	} else {
		// Recorded by domain only, like a failed sign-in: the log must not collect other people's addresses
		// or typos.
		e := s.auditEntry(c, 0, "password.forgot", "")
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			e.Target = "*" + email[at:]
		}
		if u != nil {
			e.ActorID, e.ActorName = u.ID, u.DisplayName()
		}
		err = s.db.Audit(ctx, nil, e)
	}
	if err != nil {
		return err
	}
	waitFloor(ctx, start)
	return s.render(c, http.StatusOK, views.ForgotSent(s.shell(c, l.T("forgot.sent.title")),
		views.ForgotSentView{Email: email, Minutes: int(s.cfg.ResetTTL.Minutes())}), nil)
}

// resetAllowed: enabled accounts that have a password, or that were invited and still have a place to go
// (a staff role, a membership or an invitation that can still be accepted). Someone whose only invitation
// was revoked gets nothing.
func (s *Server) resetAllowed(ctx context.Context, u *db.User) (bool, error) {
	if u.Disabled {
		return false, nil
	}
	if u.PasswordHash != "" || u.IsStaff() {
		return true, nil
	}
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil || len(ms) > 0 {
		return len(ms) > 0, err
	}
	return s.db.HasOpenInvitation(ctx, u.ID)
}

// sendReset queues the link mail in the person's language, revoking their older link, within the mail
// throttle (60 s cooldown, 5 an hour). A withheld mail changes nothing in the answer.
func (s *Server) sendReset(ctx context.Context, c *echo.Context, u *db.User) error {
	ok, err := s.db.MailAllowed(ctx, u.ID, "reset")
	if err != nil || !ok {
		return err
	}
	raw, hash := auth.NewToken()
	if err := s.db.CreateToken(ctx, u.ID, db.PurposeReset, hash, u.Email, s.cfg.ResetTTL); err != nil {
		return err
	}
	msp := s.msp.Load().Name
	var m views.Email
	var l *i18n.Localizer
	if u.PasswordHash == "" {
		m, l = s.newEmail(u.Lang, u.Name, "mail.setpw.subject", "msp", msp)
		m.Paragraphs = []string{l.T("mail.setpw.body", "email", u.Email, "msp", msp)}
		m.ButtonText = l.T("mail.setpw.button")
	} else {
		m, l = s.newEmail(u.Lang, u.Name, "mail.reset.subject", "msp", msp)
		m.Paragraphs = []string{l.T("mail.reset.body", "email", u.Email, "msp", msp)}
		m.ButtonText = l.T("mail.reset.button")
	}
	m.ButtonURL = s.link("/reset/" + raw)
	m.After = []string{l.N("mail.reset.expiry", int(s.cfg.ResetTTL.Minutes())), l.T("mail.not_you")}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.enqueue(ctx, tx, u.Email, m); err != nil {
			return err
		}
		e := s.auditEntry(c, 0, "password.forgot", u.Email)
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
		return s.db.Audit(ctx, tx, e)
	})
	if err == nil {
		s.wakeMailer()
	}
	return err
}

// resetLink is a live reset link with its person.
type resetLink struct {
	hash []byte
	user *db.User
}

// openReset checks the link of /reset/:token. When it does not work, the page that explains why is
// rendered and link is nil (err carries the render result).
func (s *Server) openReset(c *echo.Context) (*resetLink, error) {
	ctx := c.Request().Context()
	hash, err := auth.HashToken(c.Param("token"))
	if err != nil {
		return nil, s.linkProblem(c, db.TokenUnknown, "reset")
	}
	ti, err := s.db.LookupToken(ctx, db.PurposeReset, hash)
	if err != nil {
		return nil, err
	}
	if ti.State == db.TokenUnknown {
		return nil, s.linkProblem(c, ti.State, "reset")
	}
	u, err := s.db.UserByID(ctx, ti.UserID)
	if err != nil {
		return nil, err
	}
	s.pageLangOf(c, u)
	state := ti.State
	// A link sent to an address the account no longer has proves nothing any more.
	if state == db.TokenValid && (u.Disabled || !strings.EqualFold(ti.Email, u.Email)) {
		state = db.TokenRevoked
	}
	if state != db.TokenValid {
		return nil, s.linkProblem(c, state, "reset")
	}
	return &resetLink{hash: hash, user: u}, nil
}

// resetForm is the set-password form of a reset link: the name only for people who never set a password
// (they came here instead of through the invitation), the terms only if the current version is not
// accepted yet (optional here: the sign-in asks for them otherwise).
func (s *Server) resetForm(c *echo.Context, rl *resetLink) (pwForm, error) {
	ctx := c.Request().Context()
	u := rl.user
	orgs, err := s.orgNames(ctx, u.ID)
	if err != nil {
		return pwForm{}, err
	}
	f := pwForm{action: "/reset/" + c.Param("token"), user: u, orgs: orgs, submitKey: "setpw.submit.reset", testID: "setpw-reset"}
	if u.PasswordHash == "" {
		f.showName, f.titleKey, f.leadKey = true, "setpw.title", "setpw.first.lead"
	} else {
		f.titleKey, f.leadKey = "setpw.reset.title", "setpw.reset.lead"
	}
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return pwForm{}, err
	}
	if terms != nil && u.TermsVersion < terms.Version {
		f.terms = terms
	}
	return f, nil
}

func (s *Server) resetPage(c *echo.Context) error {
	rl, err := s.openReset(c)
	if rl == nil {
		return err
	}
	f, err := s.resetForm(c, rl)
	if err != nil {
		return err
	}
	return s.renderPwForm(c, http.StatusOK, f, s.pwView(f, pwInput{}))
}

// resetSubmit sets the new password in one transaction that uses the link once, ends every session and
// every other reset link of the account, confirms the address and accepts pending invitations. It does not
// sign in: the person signs in with the new password (and, once it exists, the second factor).
func (s *Server) resetSubmit(c *echo.Context) error {
	ctx := c.Request().Context()
	rl, err := s.openReset(c)
	if rl == nil {
		return err
	}
	f, err := s.resetForm(c, rl)
	if err != nil {
		return err
	}
	in, ok, err := s.readPwForm(c, f)
	if !ok {
		return err
	}
	phc, err := s.cfg.Hasher.Hash(ctx, in.password)
	if err != nil {
		return err
	}
	u := rl.user
	now := s.now()
	// The notice that the password changed (nothing secret in it). Someone setting their first password
	// gets none: nothing changed for them.
	var notice *views.Email
	if u.PasswordHash != "" {
		m := s.passwordChangedMail(u, now)
		notice = &m
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		uid, email, err := db.UseToken(ctx, tx, now, db.PurposeReset, rl.hash)
		if err != nil {
			return err
		}
		if uid != u.ID || !strings.EqualFold(email, u.Email) {
			return db.ErrNotFound
		}
		if err := db.SetPassword(ctx, tx, now, u.ID, phc); err != nil {
			return err
		}
		if f.showName {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, in.name, u.ID); err != nil {
				return err
			}
		}
		if u.PasswordHash == "" {
			if err := s.acceptPending(ctx, tx, now, u, nil); err != nil {
				return err
			}
		}
		if f.terms != nil && in.termsTicked {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, f.terms.Version, c.RealIP()); err != nil {
				return err
			}
		}
		e := s.auditEntry(c, 0, "password.reset", u.Email)
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
		if err := s.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		if notice != nil {
			return s.enqueue(ctx, tx, u.Email, *notice)
		}
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		return s.linkProblem(c, db.TokenUsed, "reset")
	}
	if err != nil {
		return err
	}
	if notice != nil {
		s.wakeMailer()
	}
	// This browser's session, if it was the person's, ended with all the others; make sure that saving it
	// at the end of this request cannot bring it back.
	if s.sm.GetInt64(ctx, keyUID) == u.ID {
		if err := s.sm.Destroy(ctx); err != nil {
			return err
		}
	}
	l := i18n.From(c.Request().Context()) // the person's language, as chosen by openReset
	v := views.MessageView{TitleKey: "reset.done.title", TextKey: "reset.done.text", Kind: "success",
		LinkKey: "reset.done.login", LinkHref: "/login", TestID: "reset-done"}
	return s.render(c, http.StatusOK, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// passwordChangedMail tells the person that their password changed and what to do if it was not them.
func (s *Server) passwordChangedMail(u *db.User, at time.Time) views.Email {
	msp := s.msp.Load()
	m, l := s.newEmail(u.Lang, u.Name, "mail.pwchanged.subject", "msp", msp.Name)
	when := s.i18n.For(u.Lang, u.TimeZone).DateTime(at)
	contact := msp.SupportEmail
	if msp.SupportPhone != "" {
		if contact != "" {
			contact += ", "
		}
		contact += msp.SupportPhone
	}
	m.Paragraphs = []string{
		l.T("mail.pwchanged.body", "email", u.Email, "msp", msp.Name, "date", when),
		l.T("mail.pwchanged.ok"),
	}
	m.After = []string{l.T("mail.pwchanged.notyou", "contact", contact, "url", s.link("/forgot"))}
	return m
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
