package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/accounts"
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
	if err := s.ipThrottled(c); err != nil {
		return err
	}
	l := i18n.From(ctx)
	email := strings.TrimSpace(c.FormValue("email"))
	v := views.ForgotView{Email: email}
	switch {
	case email == "":
		v.ErrorKey = "forgot.email.required"
	case !accounts.ValidEmail(email):
		v.ErrorKey = "forgot.email.invalid"
		v.Email = truncateUTF8(email, 254)
	}
	if v.ErrorKey != "" {
		return s.render(c, http.StatusUnprocessableEntity, views.Forgot(s.shell(c, l.T("forgot.title")), v), nil)
	}
	email = db.NormalizeEmail(email)
	err := s.accounts.ForgotPassword(ctx, email, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	waitFloor(ctx, start)
	return s.render(c, http.StatusOK, views.ForgotSent(s.shell(c, l.T("forgot.sent.title")),
		views.ForgotSentView{Email: email, Minutes: int(s.accounts.ResetTTL().Minutes())}), nil)
}

// openReset checks the link of /reset/:token. When it does not work, the page that explains why is
// rendered and link is nil (err carries the render result).
func (s *Server) openReset(c *echo.Context) (*accounts.ResetLink, error) {
	rl, err := s.accounts.OpenReset(c.Request().Context(), c.Param("token"))
	if err != nil {
		return nil, err
	}
	if rl.User != nil {
		s.pageLangOf(c, rl.User)
	}
	if rl.State != db.TokenValid {
		return nil, s.linkProblem(c, rl.State, "reset")
	}
	return rl, nil
}

// resetForm is the set-password form of a reset link: the name only for people who never set a password
// (they came here instead of through the invitation), the terms only if the current version is not
// accepted yet (optional here: the sign-in asks for them otherwise).
func (s *Server) resetForm(c *echo.Context, rl *accounts.ResetLink) (pwForm, error) {
	ctx := c.Request().Context()
	u := rl.User
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
	u := rl.User
	fp := accounts.FirstPassword{Password: in.password, IP: c.RealIP(), Actor: s.auditEntry(c, 0, "", "")}
	if f.showName {
		fp.Name = in.name
	}
	if f.terms != nil && in.termsTicked {
		fp.Terms = f.terms.Version
	}
	state, err := s.accounts.ResetPassword(ctx, rl, fp)
	if err != nil {
		return err
	}
	if state != db.TokenValid {
		// Revoked, used, expired or the account disabled while the form's request was on its way: the page
		// a GET of the link shows now.
		return s.linkProblem(c, state, "reset")
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
