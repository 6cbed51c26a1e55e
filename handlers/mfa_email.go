package handlers

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// E-mail codes: six digits, valid 10 minutes, bound to the sign-in attempt that asked for them, single
// use, void after five wrong tries; mails within the 60-second cooldown and hourly cap. The weakest
// method (NIST does not count e-mail as out-of-band), offered last and labelled so.

// Throttle buckets of code mails (60 s cooldown, 5 per hour each): sign-in codes and the codes that
// prove a new address are counted apart, so enrolling does not hold back the first sign-in code.
const (
	mailKindCode  = "mfa_code"
	mailKindEnrol = "mfa_enrol"
)

// emailCodeKey is the HMAC key under which codes are stored.
func (s *Server) emailCodeKey() []byte { return s.cfg.Sealer.PurposeKey("email code") }

// sendEmailCode mails a new code to addr for this attempt, unless the mail throttle holds it back
// (sent=false). The code itself exists only in the mail; the database keeps its HMAC.
func (s *Server) sendEmailCode(c *echo.Context, u *db.User, addr, purpose, attempt string) (bool, error) {
	ctx := c.Request().Context()
	kind := mailKindCode
	if purpose == "enrol" {
		kind = mailKindEnrol
	}
	ok, err := s.db.MailAllowed(ctx, u.ID, kind)
	if err != nil || !ok {
		return false, err
	}
	code := auth.NewCode6()
	if err := s.db.CreateEmailCode(ctx, u.ID, purpose, attempt, addr, auth.HashCode(code, s.emailCodeKey())); err != nil {
		return false, err
	}
	msp := s.msp.Load().Name
	m, l := s.newEmail(u.Lang, u.Name, "mail.mfa_code.subject", "msp", msp)
	body := "mail.mfa_code.body"
	if purpose == "enrol" {
		body = "mail.mfa_code.enrol"
	}
	m.Paragraphs = []string{
		l.T(body, "msp", msp, "email", u.Email),
		code,
		l.N("mail.mfa_code.expiry", int(db.EmailCodeTTL.Minutes())),
	}
	m.After = []string{l.T("mail.mfa_code.not_you")}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.enqueue(ctx, tx, addr, m); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "mfa.email.sent", maskEmail(addr)))
	})
	if err != nil {
		return false, err
	}
	s.wakeMailer()
	return true, nil
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
	attempt := s.mfaAttempt(c, u)
	key := s.emailCodeKey()
	res, _, err := s.db.CheckEmailCode(c.Request().Context(), u.ID, "login", attempt, func(h []byte) bool {
		return auth.VerifyCode(code, key, h)
	})
	return res == db.EmailCodeOK, err
}

// mfaEmailSend sends a new code (the old one dies), within the cooldown.
func (s *Server) mfaEmailSend(c *echo.Context) error {
	u := currentUser(c)
	choices, dest, err := s.mfaGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
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
	if s.cfg.NoMailServer {
		return s.redirect(c, "/mfa/setup")
	}
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
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
	if s.cfg.NoMailServer {
		return s.redirect(c, "/mfa/setup")
	}
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
	v := views.EmailSetupView{First: len(methods) == 0, Choice: c.FormValue("to"), Other: strings.TrimSpace(c.FormValue("other"))}
	addr := u.Email
	if v.Choice == "other" {
		if !ValidEmail(v.Other) {
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
	if s.cfg.NoMailServer {
		return s.redirect(c, "/mfa/setup")
	}
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
	addr := s.sm.GetString(ctx, keyEmailEnrol)
	if addr == "" {
		return s.redirect(c, "/mfa/setup/email")
	}
	key := s.emailCodeKey()
	code := normalizeCode(c.FormValue("code"))
	res, sentTo, err := s.db.CheckEmailCode(ctx, u.ID, "enrol", s.mfaAttempt(c, u), func(h []byte) bool {
		return auth.VerifyCode(code, key, h)
	})
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
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SessionsStillValid(ctx, tx, u.ID, u.SessionEpoch); err != nil {
			return err
		}
		id, err := db.AddEmailMethod(ctx, tx, s.now(), u.ID, addr, addr)
		if err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "mfa.enrol.email", maskEmail(addr)+" #"+strconv.FormatInt(id, 10)))
	})
	if err != nil {
		return err
	}
	s.sm.Remove(ctx, keyEmailEnrol)
	dest, err = s.enrolled(c, u, len(methods) == 0, db.MFAEmail)
	if err != nil {
		return err
	}
	return s.redirect(c, dest)
}
