package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
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
	n, ok := factorsAtStart(c, u)
	if !ok {
		var err error
		if n, err = s.db.CountMFAMethods(ctx, u.ID); err != nil {
			return "", err
		}
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
	if err := s.signin.SecondFactorPassed(ctx, u, method, res, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	u.FailedLogins, u.LockedUntil = 0, time.Time{}
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
	return s.signin.ReserveSecondFactor(c.Request().Context(), u, s.mfaAttempt(c, u), c.RealIP())
}

// mfaFailed answers a code that was refused (account locked, attempt void) or checked and wrong (already
// counted by its reservation). The fifth wrong code of an attempt voids it: the session ends and the person
// starts again with the password. It reports whether the attempt was voided.
func (s *Server) mfaFailed(c *echo.Context, method string, res db.Reservation) (bool, error) {
	ctx := c.Request().Context()
	if !s.signin.SecondFactorFailed(ctx, method, res, s.auditEntry(c, 0, "", "")) {
		return false, nil
	}
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
	if passkeys && s.passkeys != nil {
		a.PasskeyJS = s.assets.URL("passkey.js")
	}
	return a
}

// errNoWebAuthn answers passkey requests when the base URL is an IP address (browsers refuse passkeys there).
var errNoWebAuthn = echo.ErrNotFound.Wrap(errors.New("passkeys need a domain name in the base URL"))

// mfaSetupPage is the choice of a second factor: the three methods side by side.
func (s *Server) mfaSetupPage(c *echo.Context) error {
	methods := enrolMethods(c)
	l := i18n.From(c.Request().Context())
	v := views.MFASetupView{
		First:            len(methods) == 0,
		EmailAvailable:   !s.cfg.NoMailServer,
		PasskeyAvailable: s.passkeys != nil,
		PasskeyName:      passkeyNameFor(l, c.Request().UserAgent()),
		Assets:           s.mfaAssets(true),
	}
	return s.render(c, http.StatusOK, views.MFASetup(s.shell(c, l.T("mfa.setup.title")), v), nil)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// ctxBeforeHandler marks the check of the complete middleware, which runs before the request's handler.
const ctxBeforeHandler = "portier.before_handler"

// factorsAtStart is the person's number of second factors as read with the session, for the check that
// runs before the handler (nothing in the request can have changed it yet; one query per page fewer).
// Anywhere else — a handler that just added or removed a factor asks for its next step — it is not used.
func factorsAtStart(c *echo.Context, u *db.User) (int, bool) {
	if before, _ := c.Get(ctxBeforeHandler).(bool); !before {
		return 0, false
	}
	if read := listedUser(c.Request().Context(), u.ID); read != nil {
		return read.Factors, true
	}
	return 0, false
}
