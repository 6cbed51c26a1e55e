package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Second factors: the pipeline step, the sign-in step (/mfa) and what every method shares. Each method
// has its own file (mfa_totp.go, mfa_email.go, mfa_passkey.go, mfa_recovery.go); the security page is
// security.go.

// Session keys of the second-factor step.
const (
	keyMFAAttempt   = "mfa_attempt"    // random id of this sign-in attempt; e-mail codes are bound to it
	keyMFAAttemptOf = "mfa_attempt_of" // "uid:pw_at" the attempt belongs to
	keyMFARecovery  = "mfa_recovery"   // new recovery codes (sealed) waiting to be acknowledged
	keyMFARecFirst  = "mfa_rec_first"  // those codes follow the first method: the "account is set up" screen
	keyTOTPPending  = "totp_pending"   // the secret (sealed) of an authenticator app being enrolled
	keyEmailEnrol   = "email_enrol"    // the address being enrolled for e-mail codes
	keyWebAuthn     = "webauthn"       // WebAuthn ceremony data (JSON); deleted when used
)

// Numbers from security.md.
const (
	reauthWindow  = 10 * time.Minute // adding or removing a factor needs the password entered this recently
	methodNameMax = 60
)

// mfaStep is the second-factor part of the first-login pipeline: enrol a method when there is none, pass
// one in this session, and look at new recovery codes before anything else.
func (s *Server) mfaStep(c *echo.Context, u *db.User) (string, error) {
	ctx := c.Request().Context()
	n, err := s.db.CountMFAMethods(ctx, u.ID)
	if err != nil {
		return "", err
	}
	// Checked whatever the number of methods: it also withdraws a provider's factor that no longer covers
	// every organisation of the person.
	idpPassed, err := s.idpMFAPassed(ctx, u)
	if err != nil {
		return "", err
	}
	if n == 0 && !idpPassed {
		return "/mfa/setup", nil
	}
	if !s.sm.GetBool(ctx, keyMFAOK) {
		return "/mfa", nil
	}
	if s.sm.Exists(ctx, keyMFARecovery) {
		return "/mfa/recovery", nil
	}
	return "", nil
}

// preMFAStep returns the pipeline step before the second factor that is still open (address confirmation,
// terms), or "".
func (s *Server) preMFAStep(c *echo.Context, u *db.User) (string, error) {
	step, err := s.nextStep(c, u)
	if err != nil {
		return "", err
	}
	if step == "/confirm/pending" || step == "/terms" {
		return step, nil
	}
	return "", nil
}

// nextURL is where a person goes after finishing a step: the next step, the page they asked for, or their
// landing page (continueTo, for answers that are not redirects).
func (s *Server) nextURL(c *echo.Context, u *db.User) (string, error) {
	step, err := s.nextStep(c, u)
	if err != nil || step != "" {
		return step, err
	}
	if next := s.sm.PopString(c.Request().Context(), keyNext); next != "" {
		return next, nil
	}
	return s.landing(c, u)
}

// passMFA marks the session as having passed the second factor: a new session token (the privilege
// changed), the person's session listing follows it, the reservation of the passed check is released (the
// failure counts start again) and the sign-in is audited with its method.
func (s *Server) passMFA(c *echo.Context, u *db.User, method string, res db.Reservation) error {
	ctx := c.Request().Context()
	old := s.sm.Token(ctx)
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyMFAOK, true)
	s.sm.Remove(ctx, keyIdPMFA) // Portier's own factor now (idpSignedIn puts it back for a provider's)
	s.sm.Remove(ctx, keyIdPOrg)
	s.sm.Remove(ctx, keyMFAAttempt)
	s.sm.Remove(ctx, keyMFAAttemptOf)
	if err := s.db.RenameUserSession(ctx, old, s.sm.Token(ctx)); err != nil {
		return err
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return err
	}
	u.FailedLogins, u.LockedUntil = 0, time.Time{}
	s.audit(c, 0, "mfa.ok", method)
	return nil
}

// mfaAttempt returns the id of this sign-in attempt, starting a new attempt when the session belongs to
// another sign-in (another person, or the password entered again). Only the id is in the session; what
// the attempt has used up (wrong codes) is counted in the database.
func (s *Server) mfaAttempt(c *echo.Context, u *db.User) string {
	ctx := c.Request().Context()
	owner := strconv.FormatInt(u.ID, 10) + ":" + strconv.FormatInt(s.sm.GetInt64(ctx, keyPwAt), 10)
	if id := s.sm.GetString(ctx, keyMFAAttempt); id != "" && s.sm.GetString(ctx, keyMFAAttemptOf) == owner {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s.sm.Put(ctx, keyMFAAttempt, id)
	s.sm.Put(ctx, keyMFAAttemptOf, owner)
	return id
}

// reserveCode counts the check of a second-factor code (or passkey) before it happens: as a failed
// sign-in of the account (lock) and of the client address (throttle), and as a wrong code of this sign-in
// attempt. A check that passes releases it (passMFA).
func (s *Server) reserveCode(c *echo.Context, u *db.User) (db.Reservation, error) {
	return s.db.ReserveAttempt(c.Request().Context(), db.Attempt{Kind: db.AttemptSecondFactor, UserID: u.ID,
		IP: c.RealIP(), MFAAttempt: s.mfaAttempt(c, u)})
}

// mfaFailed answers a code that was refused (account locked, attempt void) or checked and wrong (already
// counted by its reservation). The fifth wrong code of an attempt voids it: the session ends and the person
// starts again with the password. It reports whether the attempt was voided.
func (s *Server) mfaFailed(c *echo.Context, method string, res db.Reservation) (bool, error) {
	ctx := c.Request().Context()
	switch res.Refused {
	case db.RefusedLocked:
		s.audit(c, 0, "login.locked", method)
		return false, nil
	case db.NotRefused:
		s.audit(c, 0, "mfa.fail", method)
		if res.Fails < db.MFAAttemptMaxFails {
			return false, nil
		}
	}
	s.audit(c, 0, "mfa.voided", method)
	if err := s.db.RemoveUserSession(ctx, s.sm.Token(ctx)); err != nil {
		return true, err
	}
	if err := s.sm.Destroy(ctx); err != nil {
		return true, err
	}
	if err := s.sm.RenewToken(ctx); err != nil {
		return true, err
	}
	s.sm.Put(ctx, keyFlash, "mfa.voided")
	return true, nil
}

// enrolGate decides whether the person may enrol a method now. Enrolment is open to a person without any
// method (the first-login pipeline) and to one who passed the second factor in this session; adding a
// further method needs the password entered in the last 10 minutes. It returns the enrolled methods, or
// where to send the person instead.
func (s *Server) enrolGate(c *echo.Context, u *db.User) ([]db.MFAMethod, string, error) {
	ctx := c.Request().Context()
	if step, err := s.preMFAStep(c, u); err != nil || step != "" {
		return nil, step, err
	}
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	if len(methods) == 0 {
		return methods, "", nil
	}
	if !s.sm.GetBool(ctx, keyMFAOK) {
		return nil, "/mfa", nil
	}
	if !s.recentPassword(c) {
		back := c.Request().URL.Path
		if c.Request().Method != http.MethodGet {
			back = "/security"
		}
		return nil, "/security/confirm?next=" + url.QueryEscape(back), nil
	}
	return methods, "", nil
}

// recentPassword reports whether the password was entered in this session within the last 10 minutes.
func (s *Server) recentPassword(c *echo.Context) bool {
	at := s.sm.GetInt64(c.Request().Context(), keyPwAt)
	return at != 0 && s.now().Sub(time.Unix(at, 0)) <= reauthWindow
}

// enrolled finishes the enrolment of a method and returns where to go. After the first method the person
// gets recovery codes on the "your account is set up" screen; enrolling proved the new factor, so the
// session counts as having passed it. Later methods go back to the security page.
func (s *Server) enrolled(c *echo.Context, u *db.User, first bool, kind string) (string, error) {
	ctx := c.Request().Context()
	if !first {
		s.sm.Put(ctx, keyFlash, "security.method_added")
		return "/security", nil
	}
	if err := s.newRecoveryCodes(c, u, true); err != nil {
		return "", err
	}
	old := s.sm.Token(ctx)
	if err := s.sm.RenewToken(ctx); err != nil {
		return "", err
	}
	s.sm.Put(ctx, keyMFAOK, true)
	s.sm.Remove(ctx, keyIdPMFA) // the new method is Portier's own factor
	s.sm.Remove(ctx, keyIdPOrg)
	if err := s.db.RenameUserSession(ctx, old, s.sm.Token(ctx)); err != nil {
		return "", err
	}
	// The first sign-in passed its second factor by proving the new one: list it among the sign-ins.
	s.audit(c, 0, "mfa.ok", kind)
	return "/mfa/recovery", nil
}

// cleanName trims a method's name and cuts it to the limit; empty names get def.
func cleanName(name, def string) string {
	name = strings.Join(strings.Fields(name), " ")
	if r := []rune(name); len(r) > methodNameMax {
		name = string(r[:methodNameMax])
	}
	if name == "" {
		return def
	}
	return name
}

// normalizeCode keeps the digits of a typed code: spaces, dashes and dots that people (and apps) put in
// between are ignored.
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '\u00a0' || r == '\t':
		default:
			return "" // anything else is not a code
		}
	}
	return b.String()
}

// mfaAssets are the extra files of the second-factor pages.
func (s *Server) mfaAssets(passkeys bool) views.MFAAssets {
	a := views.MFAAssets{CSS: s.assets.URL("mfa.css")}
	if passkeys && s.wa != nil {
		a.PasskeyJS = s.assets.URL("passkey.js")
	}
	return a
}

// ---- the sign-in step: /mfa ----

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

// mfaGate loads what the sign-in step needs, or says where the person belongs instead.
func (s *Server) mfaGate(c *echo.Context, u *db.User) ([]mfaChoice, string, error) {
	ctx := c.Request().Context()
	if step, err := s.preMFAStep(c, u); err != nil || step != "" {
		return nil, step, err
	}
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	if len(methods) == 0 {
		return nil, "/mfa/setup", nil
	}
	if s.sm.GetBool(ctx, keyMFAOK) {
		dest, err := s.nextURL(c, u)
		return nil, dest, err
	}
	choices, err := s.mfaChoices(c, u, methods)
	return choices, "", err
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
	choices, dest, err := s.mfaGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
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
		v.NoMailContact = s.supportContact()
	}
	if ch.method != nil {
		v.Email = maskEmail(ch.method.Email)
	}
	for _, o := range choices {
		if o.use == ch.use {
			continue
		}
		opt := views.MFAOption{Href: "/mfa?use=" + url.QueryEscape(o.use), LabelKey: "mfa.use." + o.kind, TestID: "use-" + o.kind}
		if o.method != nil {
			opt.Args = []any{"email", maskEmail(o.method.Email)}
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
	choices, dest, err := s.mfaGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
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
			ok, err = s.checkTOTP(c, u, normalizeCode(code))
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

// maskEmail shows enough of an address to recognise it: "a•••@muster.example".
func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return e
	}
	r := []rune(e[:at])
	return string(r[0]) + "•••" + e[at:]
}

// errNoWebAuthn answers passkey requests when the base URL is an IP address (browsers refuse passkeys there).
var errNoWebAuthn = echo.ErrNotFound.Wrap(errors.New("passkeys need a domain name in the base URL"))

// mfaRoutes registers the second-factor routes.
func (s *Server) mfaRoutes() {
	e := s.e
	s.wa = s.newWebAuthn()
	// Anyone: "sign in with a passkey" on the sign-in page, no password.
	e.POST("/login/passkey/begin", s.passkeyLoginBegin)
	e.POST("/login/passkey/finish", s.passkeyLoginFinish)

	// Signed in with the password: the second-factor pages, and nothing else until they are done.
	e.GET("/mfa", s.mfaPage, s.signedIn)
	e.POST("/mfa", s.mfaVerify, s.signedIn)
	e.POST("/mfa/email/send", s.mfaEmailSend, s.signedIn)
	e.POST("/mfa/passkey/begin", s.mfaPasskeyBegin, s.signedIn)
	e.POST("/mfa/passkey/finish", s.mfaPasskeyFinish, s.signedIn)
	e.GET("/mfa/setup", s.mfaSetupPage, s.signedIn)
	e.GET("/mfa/setup/totp", s.totpSetupPage, s.signedIn)
	e.POST("/mfa/setup/totp", s.totpSetup, s.signedIn)
	e.GET("/mfa/setup/email", s.emailSetupPage, s.signedIn)
	e.POST("/mfa/setup/email", s.emailSetupSend, s.signedIn)
	e.POST("/mfa/setup/email/verify", s.emailSetupVerify, s.signedIn)
	e.POST("/mfa/setup/passkey/begin", s.passkeyRegisterBegin, s.signedIn)
	e.POST("/mfa/setup/passkey/finish", s.passkeyRegisterFinish, s.signedIn)
	e.GET("/mfa/recovery", s.recoveryPage, s.signedIn)
	e.GET("/mfa/recovery/codes.txt", s.recoveryDownload, s.signedIn)
	e.POST("/mfa/recovery/done", s.recoveryDone, s.signedIn)

	// Signed in with every step done.
	e.GET("/security", s.securityPage, s.complete)
	e.GET("/security/confirm", s.securityConfirmPage, s.complete)
	e.POST("/security/confirm", s.securityConfirm, s.complete)
	e.POST("/security/methods/:id/rename", s.renameMethod, s.complete)
	e.GET("/security/methods/:id/remove", s.removeMethodPage, s.complete)
	e.POST("/security/methods/:id/remove", s.removeMethod, s.complete)
	e.POST("/security/recovery", s.regenerateRecovery, s.complete)

	// Staff, and an organisation's managers for its members: reset a person's second factors.
	e.POST("/staff/users/:id/mfa-reset", s.staffMFAReset, s.complete, s.staffOnly)
	e.POST("/o/:slug/people/:id/mfa-reset", s.orgMFAReset, s.complete, s.orgAccess)
}

// mfaSetupPage is the choice of a second factor: the three methods side by side.
func (s *Server) mfaSetupPage(c *echo.Context) error {
	u := currentUser(c)
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
	l := i18n.From(c.Request().Context())
	v := views.MFASetupView{
		First:            len(methods) == 0,
		EmailAvailable:   !s.cfg.NoMailServer,
		PasskeyAvailable: s.wa != nil,
		PasskeyName:      passkeyNameFor(l, c.Request().UserAgent()),
		Assets:           s.mfaAssets(true),
	}
	return s.render(c, http.StatusOK, views.MFASetup(s.shell(c, l.T("mfa.setup.title")), v), nil)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
