package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// E-mail codes: six digits, valid 10 minutes, bound to the sign-in attempt that asked for them, single
// use, void after five wrong tries; mails within the 60-second cooldown and hourly cap. The weakest
// method (NIST does not count e-mail as out-of-band), offered last and labelled so.

// sendEmailCode mails a new code to addr for this attempt, unless the mail throttle holds it back
// (sent=false).
func (s *Server) sendEmailCode(c *echo.Context, u *db.User, addr, purpose, attempt string) (bool, error) {
	return s.signin.SendEmailCode(c.Request().Context(), u, addr, purpose, attempt, s.auditEntry(c, 0, "", ""))
}

// ensureLoginCode sends a code to an e-mail method when this attempt has none for that address yet.
// It reports false when the mail throttle held a needed mail back.
func (s *Server) ensureLoginCode(c *echo.Context, u *db.User, m *db.MFAMethod) (bool, error) {
	attempt := s.mfaAttempt(c, u)
	live, addr, err := s.db.LiveEmailCode(c.Request().Context(), u.ID, "login", attempt)
	if err != nil {
		return false, err
	}
	if live && strings.EqualFold(addr, m.Email) {
		return true, nil
	}
	return s.sendEmailCode(c, u, m.Email, "login", attempt)
}

// checkLoginCode checks a code against the live code of this attempt.
func (s *Server) checkLoginCode(c *echo.Context, u *db.User, code string) (bool, error) {
	res, _, err := s.signin.CheckEmailCode(c.Request().Context(), u, "login", s.mfaAttempt(c, u), code)
	return res == db.EmailCodeOK, err
}

// mfaEmailSend sends a new code (the old one dies), within the cooldown.
func (s *Server) mfaEmailSend(c *echo.Context) error {
	u := currentUser(c)
	choices := mfaChoicesOf(c)
	ch := pickChoice(choices, c.FormValue("use"))
	if ch.kind != db.MFAEmail {
		return s.redirect(c, "/mfa?use="+ch.use)
	}
	sent, err := s.sendEmailCode(c, u, ch.method.Email, "login", s.mfaAttempt(c, u))
	if err != nil {
		return err
	}
	v := views.MFAVerifyView{InfoKey: "mfa.email.resent"}
	if !sent {
		v.InfoKey = "mfa.email.wait"
	}
	return s.renderVerify(c, http.StatusOK, u, choices, ch, v)
}

// ---- enrolment ----

func (s *Server) emailSetupPage(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	methods := enrolMethods(c)
	v := views.EmailSetupView{First: len(methods) == 0}
	if c.QueryParam("change") != "" {
		s.sm.Remove(ctx, keyEmailEnrol)
	}
	if pending := s.sm.GetString(ctx, keyEmailEnrol); pending != "" {
		live, _, err := s.db.LiveEmailCode(ctx, u.ID, "enrol", s.mfaAttempt(c, u))
		if err != nil {
			return err
		}
		if live {
			v.Pending = pending
		} else {
			s.sm.Remove(ctx, keyEmailEnrol)
			v.InfoKey = "mfa.email.expired"
		}
	}
	return s.renderEmailSetup(c, http.StatusOK, u, v)
}

func (s *Server) renderEmailSetup(c *echo.Context, status int, u *db.User, v views.EmailSetupView) error {
	v.Own = u.Email
	if v.Pending != "" && !strings.EqualFold(v.Pending, u.Email) {
		v.Choice, v.Other = "other", v.Pending
	}
	v.Assets = s.mfaAssets(false)
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.EmailSetup(s.shell(c, l.T("mfa.email.title")), v), nil)
}

// emailSetupSend sends a code to the chosen address: the person's own, or a second one (a shared office
// mailbox) that becomes a method only once the code sent there is entered.
func (s *Server) emailSetupSend(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	methods := enrolMethods(c)
	v := views.EmailSetupView{First: len(methods) == 0, Choice: c.FormValue("to"), Other: strings.TrimSpace(c.FormValue("other"))}
	addr := u.Email
	if v.Choice == "other" {
		if !accounts.ValidEmail(v.Other) {
			v.OtherErrorKey = "mfa.email.invalid"
			return s.renderEmailSetup(c, http.StatusUnprocessableEntity, u, v)
		}
		addr = db.NormalizeEmail(v.Other)
	}
	for _, m := range methods {
		if m.Kind == db.MFAEmail && strings.EqualFold(m.Email, addr) {
			v.OtherErrorKey = "mfa.email.already"
			return s.renderEmailSetup(c, http.StatusUnprocessableEntity, u, v)
		}
	}
	sent, err := s.sendEmailCode(c, u, addr, "enrol", s.mfaAttempt(c, u))
	if err != nil {
		return err
	}
	if !sent {
		// Within the cooldown: a code sent to this address a moment ago still works.
		if live, liveAddr, err := s.db.LiveEmailCode(ctx, u.ID, "enrol", s.mfaAttempt(c, u)); err != nil {
			return err
		} else if !live || !strings.EqualFold(liveAddr, addr) {
			v.InfoKey = "mfa.email.wait"
			return s.renderEmailSetup(c, http.StatusOK, u, v)
		}
	}
	s.sm.Put(ctx, keyEmailEnrol, addr)
	return s.redirect(c, "/mfa/setup/email")
}

// emailSetupVerify enables the address once its code was entered.
func (s *Server) emailSetupVerify(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	methods := enrolMethods(c)
	addr := s.sm.GetString(ctx, keyEmailEnrol)
	if addr == "" {
		return s.redirect(c, "/mfa/setup/email")
	}
	res, sentTo, err := s.signin.CheckEmailCode(ctx, u, "enrol", s.mfaAttempt(c, u), normalizeCode(c.FormValue("code")))
	if err != nil {
		return err
	}
	switch {
	case res == db.EmailCodeNone:
		s.sm.Remove(ctx, keyEmailEnrol)
		return s.renderEmailSetup(c, http.StatusUnprocessableEntity, u, views.EmailSetupView{First: len(methods) == 0, InfoKey: "mfa.email.expired"})
	case res == db.EmailCodeWrong || !strings.EqualFold(sentTo, addr):
		return s.renderEmailSetup(c, http.StatusUnprocessableEntity, u, views.EmailSetupView{First: len(methods) == 0, Pending: addr, CodeErrorKey: "mfa.code_wrong"})
	}
	if err := s.signin.EnrolEmail(ctx, u, addr, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	s.sm.Remove(ctx, keyEmailEnrol)
	dest, err := s.enrolled(c, u, len(methods) == 0, db.MFAEmail)
	if err != nil {
		return err
	}
	return s.redirect(c, dest)
}
