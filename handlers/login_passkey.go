package handlers

import (
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
)

// Signing in with a passkey and no password: a discoverable credential with user verification stands
// for both factors.

// passkeyLoginBegin starts a discoverable login: the browser offers the passkeys it has for this site.
// User verification is required here, so the passkey stands for both factors.
func (s *Server) passkeyLoginBegin(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	if err := s.ipThrottled(c); err != nil {
		return err
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := s.putCeremony(c, ceremony{Kind: "login", Data: *sd}); err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, assertion)
}

// passkeyLoginFinish signs in with a passkey: it counts as both factors. The rest of the first-login
// pipeline (terms, ...) still applies.
func (s *Server) passkeyLoginFinish(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	if err := s.ipThrottled(c); err != nil {
		return err
	}
	cer, ok, err := s.takeCeremony(c, "login", 0)
	if err != nil {
		return err
	}
	if !ok {
		return s.passkeyError(c, "login.passkey_failed")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(c.Request().Body)
	if err != nil {
		return s.passkeyError(c, "login.passkey_failed")
	}
	var found *waUser
	// The account becomes known only inside the check, just before the signature is verified: the attempt
	// is reserved there (lock and throttle), and a refusal ends the check.
	var res db.Reservation
	var reserved bool
	var handlerErr error
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		uid, err := s.db.UserIDByWebAuthnHandle(ctx, userHandle)
		if err != nil {
			return nil, err
		}
		u, err := s.db.UserByID(ctx, uid)
		if err != nil {
			return nil, err
		}
		if res, handlerErr = s.signin.ReserveSecondFactor(ctx, u, "", ip); handlerErr != nil {
			return nil, handlerErr
		}
		if res.Refused != db.NotRefused {
			return nil, errors.New("attempt refused")
		}
		reserved = true
		if found, handlerErr = s.loadWAUser(c, u); handlerErr != nil {
			return nil, handlerErr
		}
		return found, nil
	}
	failed := func(key string) error {
		var u *db.User
		if found != nil {
			u = found.u
		}
		if res.Refused == db.RefusedIP {
			return &tooMany{retryAfter: res.RetryAfter}
		}
		if err := s.signin.PasskeyFailed(ctx, u, res, reserved, s.auditEntry(c, 0, "", "")); err != nil {
			return err
		}
		return s.passkeyError(c, key)
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, cer.Data, parsed)
	if handlerErr != nil {
		return handlerErr
	}
	if err != nil {
		s.log.Info("passkey sign-in refused", "err", err)
		return failed("login.passkey_failed")
	}
	u := found.u
	if u.Disabled || u.PasswordHash == "" {
		return failed("login.passkey_failed")
	}
	if ok, err := s.acceptAssertion(c, found, cred); err != nil {
		return err
	} else if !ok {
		return failed("mfa.passkey.cloned")
	}
	if err := s.signin.PasskeyPassed(ctx, u, res); err != nil {
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
