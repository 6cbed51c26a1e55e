package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/signin"
)

// Signing in with a passkey and no password: a discoverable credential with user verification stands
// for both factors.

// passkeyLoginBegin starts a discoverable login: the browser offers the passkeys it has for this site.
func (s *Server) passkeyLoginBegin(c *echo.Context) error {
	if s.passkeys == nil {
		return errNoWebAuthn
	}
	if err := s.ipThrottled(c); err != nil {
		return err
	}
	assertion, cer, err := s.passkeys.BeginLogin(c.Request().Context())
	if err != nil {
		return err
	}
	s.putCeremony(c, cer)
	return s.jsonAnswer(c, http.StatusOK, assertion)
}

// passkeyLoginFinish signs in with a passkey: it counts as both factors. The rest of the first-login
// pipeline (terms, ...) still applies.
func (s *Server) passkeyLoginFinish(c *echo.Context) error {
	if s.passkeys == nil {
		return errNoWebAuthn
	}
	ctx := c.Request().Context()
	if err := s.ipThrottled(c); err != nil {
		return err
	}
	u, res, err := s.passkeys.FinishLogin(ctx, s.popCeremony(c), c.Request().Body, s.auditEntry(c, 0, "", ""))
	switch {
	case res.Refused == db.RefusedIP:
		return &tooMany{retryAfter: res.RetryAfter}
	case errors.Is(err, signin.ErrCeremony), errors.Is(err, signin.ErrPasskeyRefused):
		return s.passkeyError(c, "login.passkey_failed")
	case errors.Is(err, signin.ErrPasskeyCloned):
		return s.passkeyError(c, "mfa.passkey.cloned")
	case err != nil:
		return err
	}
	if err := s.startPasskeySession(c, u); err != nil {
		return err
	}
	s.signin.PasskeySignedIn(ctx, u, s.auditEntry(c, 0, "", ""))
	next, err := s.nextURL(c, u)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: next})
}

// startPasskeySession is startSession for a password-less sign-in: a new token, the person, the second
// factor passed — and no password time, so changing factors asks for the password.
func (s *Server) startPasskeySession(c *echo.Context, u *db.User) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	for _, k := range []string{keyPwAt, keyMFAAttempt, keyMFAAttemptOf, keyTOTPPending, keyEmailEnrol, keyMFARecovery, keyMFARecFirst} {
		s.sm.Remove(ctx, k)
	}
	s.sm.Put(ctx, keyUID, u.ID)
	s.sm.Put(ctx, keyMFAOK, true)
	c.Set(ctxUser, u)
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(ctx, s.i18n.For(u.Lang, u.TimeZone))))
	return s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, u.SessionEpoch, c.RealIP(), r.UserAgent())
}
