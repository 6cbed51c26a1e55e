package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/signin"
	"portier/views"
)

// The sign-in step /mfa: the method used last, the others under "use another method"; every failure
// gets the same words.

// mfaChoice is one way to pass the second factor.
type mfaChoice struct {
	use    string // form value: "totp", "passkey", "recovery" or "email-<id>"
	kind   string
	method *db.MFAMethod // e-mail methods
}

// mfaChoices lists the ways the person can pass the second factor, the method used last first.
func (s *Server) mfaChoices(c *echo.Context, u *db.User, methods []db.MFAMethod) ([]mfaChoice, error) {
	var last *db.MFAMethod
	for i := range methods {
		if last == nil || methods[i].LastUsedAt.After(last.LastUsedAt) ||
			(methods[i].LastUsedAt.Equal(last.LastUsedAt) && methods[i].ID > last.ID) {
			last = &methods[i]
		}
	}
	var out []mfaChoice
	seen := map[string]bool{}
	add := func(m *db.MFAMethod) {
		ch := mfaChoice{use: m.Kind, kind: m.Kind}
		if m.Kind == db.MFAEmail {
			ch.use, ch.method = "email-"+strconv.FormatInt(m.ID, 10), m
		}
		if !seen[ch.use] {
			seen[ch.use] = true
			out = append(out, ch)
		}
	}
	// Without a mail server no code can reach anyone: e-mail methods are not offered (nor is a code sent).
	usable := func(m *db.MFAMethod) bool { return m.Kind != db.MFAEmail || !s.cfg.NoMailServer }
	if last != nil && usable(last) {
		add(last)
	}
	// The rest in the order of security.md: passkey, app, e-mail.
	for _, kind := range []string{db.MFAPasskey, db.MFATOTP, db.MFAEmail} {
		for i := range methods {
			if methods[i].Kind == kind && usable(&methods[i]) {
				add(&methods[i])
			}
		}
	}
	left, err := s.db.RecoveryCodesLeft(c.Request().Context(), u.ID)
	if err != nil {
		return nil, err
	}
	if left > 0 {
		out = append(out, mfaChoice{use: "recovery", kind: "recovery"})
	}
	if len(out) == 0 {
		// Only e-mail methods, no mail server and no recovery code left: a page that says so.
		out = append(out, mfaChoice{use: kindNoMail, kind: kindNoMail})
	}
	return out, nil
}

// kindNoMail is the sign-in step of a person whose only factor is e-mail codes while no mail server is set
// and who has no recovery code left: nothing to enter, only whom to ask.
const kindNoMail = "nomail"

// onlyEmailLeft reports whether the person has no way but e-mail codes, which cannot be sent now: the
// sign-in page then says so and points to recovery codes and support.
func (s *Server) onlyEmailLeft(choices []mfaChoice) bool {
	if !s.cfg.NoMailServer {
		return false
	}
	for _, ch := range choices {
		if ch.kind == db.MFAPasskey || ch.kind == db.MFATOTP {
			return false
		}
	}
	return true
}

func pickChoice(choices []mfaChoice, use string) mfaChoice {
	for _, ch := range choices {
		if ch.use == use {
			return ch
		}
	}
	return choices[0]
}

// mfaPage asks for the second factor: the method used last, with the others under "use another method".
func (s *Server) mfaPage(c *echo.Context) error {
	u := currentUser(c)
	choices := mfaChoicesOf(c)
	ch := pickChoice(choices, c.QueryParam("use"))
	v := views.MFAVerifyView{}
	if ch.kind == db.MFAEmail {
		sent, err := s.ensureLoginCode(c, u, ch.method)
		if err != nil {
			return err
		}
		if !sent {
			v.InfoKey = "mfa.email.wait"
		}
	}
	return s.renderVerify(c, http.StatusOK, u, choices, ch, v)
}

func (s *Server) renderVerify(c *echo.Context, status int, u *db.User, choices []mfaChoice, ch mfaChoice, v views.MFAVerifyView) error {
	v.Method, v.Use = ch.kind, ch.use
	v.Assets = s.mfaAssets(ch.kind == db.MFAPasskey)
	if s.onlyEmailLeft(choices) {
		v.NoMailContact = s.mails.SupportContact()
	}
	if ch.method != nil {
		v.Email = signin.MaskEmail(ch.method.Email)
	}
	for _, o := range choices {
		if o.use == ch.use {
			continue
		}
		opt := views.MFAOption{Href: "/mfa?use=" + url.QueryEscape(o.use), LabelKey: "mfa.use." + o.kind, TestID: "use-" + o.kind}
		if o.method != nil {
			opt.Args = []any{"email", signin.MaskEmail(o.method.Email)}
		}
		v.Others = append(v.Others, opt)
	}
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.MFAVerify(s.shell(c, l.T("mfa.verify.title")), v), nil)
}

// mfaVerify checks a typed code: authenticator app, e-mail code or recovery code. Every failure gets the
// same words.
func (s *Server) mfaVerify(c *echo.Context) error {
	u := currentUser(c)
	choices := mfaChoicesOf(c)
	ch := pickChoice(choices, c.FormValue("use"))
	if ch.kind == kindNoMail {
		return s.redirect(c, "/mfa")
	}
	code := c.FormValue("code")
	res, err := s.reserveCode(c, u)
	if err != nil {
		return err
	}
	if res.Refused == db.RefusedIP {
		return &tooMany{retryAfter: res.RetryAfter}
	}
	var ok bool
	if res.Refused == db.NotRefused {
		switch ch.kind {
		case db.MFATOTP:
			ok, err = s.signin.CheckTOTP(c.Request().Context(), u, normalizeCode(code))
		case db.MFAEmail:
			ok, err = s.checkLoginCode(c, u, normalizeCode(code))
		case "recovery":
			ok, err = s.useRecoveryCode(c, u, code)
		default:
			// Passkeys are checked through their own ceremony; a code posted for them is simply wrong.
		}
	}
	if err != nil {
		return err
	}
	if ok {
		if err := s.passMFA(c, u, ch.kind, res); err != nil {
			return err
		}
		return s.continueTo(c, u)
	}
	voided, err := s.mfaFailed(c, ch.kind, res)
	if err != nil {
		return err
	}
	if voided {
		return s.redirect(c, "/login")
	}
	return s.renderVerify(c, http.StatusUnprocessableEntity, u, choices, ch, views.MFAVerifyView{ErrorKey: "mfa.failed"})
}
