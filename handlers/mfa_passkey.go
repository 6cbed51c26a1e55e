package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/signin"
)

// Passkeys (WebAuthn). The ceremonies are signin.Passkeys'; these handlers keep a started ceremony in the
// session (deleted when it comes back), hand the browser's answer over and answer static/passkey.js.

// putCeremony keeps a started ceremony in the session.
func (s *Server) putCeremony(c *echo.Context, cer string) {
	s.sm.Put(c.Request().Context(), keyWebAuthn, cer)
}

// popCeremony takes the session's ceremony out of it: each is finished at most once (signin also spends
// its challenge in the database, for parallel requests of one session).
func (s *Server) popCeremony(c *echo.Context) string {
	return s.sm.PopString(c.Request().Context(), keyWebAuthn)
}

// passkeyJSON is the answer of the ceremony endpoints to static/passkey.js.
type passkeyJSON struct {
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// jsonAnswer saves the session first (a failed save becomes an error page, not a lost session) and then
// answers JSON.
func (s *Server) jsonAnswer(c *echo.Context, status int, v any) error {
	if err := s.saveSession(c); err != nil {
		return err
	}
	return c.JSON(status, v)
}

func (s *Server) passkeyError(c *echo.Context, key string) error {
	l := i18n.From(c.Request().Context())
	return s.jsonAnswer(c, http.StatusBadRequest, passkeyJSON{Error: l.T(key)})
}

// ---- registration ----

func (s *Server) passkeyRegisterBegin(c *echo.Context) error {
	l := i18n.From(c.Request().Context())
	name := cleanName(c.FormValue("name"), l.T("mfa.passkey.default_name"))
	creation, cer, err := s.passkeys.BeginRegistration(c.Request().Context(), currentUser(c), name)
	if err != nil {
		return err
	}
	s.putCeremony(c, cer)
	return s.jsonAnswer(c, http.StatusOK, creation)
}

func (s *Server) passkeyRegisterFinish(c *echo.Context) error {
	u := currentUser(c)
	methods := enrolMethods(c)
	err := s.passkeys.FinishRegistration(c.Request().Context(), u, s.popCeremony(c), c.Request().Body, s.auditEntry(c, 0, "", ""))
	switch {
	case errors.Is(err, signin.ErrCeremony), errors.Is(err, signin.ErrPasskeyRefused):
		return s.passkeyError(c, "mfa.passkey.failed")
	case errors.Is(err, signin.ErrPasskeyExists):
		return s.passkeyError(c, "mfa.passkey.exists")
	case err != nil:
		return err
	}
	dest, err := s.enrolled(c, u, len(methods) == 0, db.MFAPasskey)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
}

// ---- second factor after the password ----

func (s *Server) mfaPasskeyBegin(c *echo.Context) error {
	assertion, cer, err := s.passkeys.BeginSecondFactor(c.Request().Context(), currentUser(c))
	if errors.Is(err, signin.ErrNoPasskey) {
		return s.passkeyError(c, "mfa.passkey.none")
	}
	if err != nil {
		return err
	}
	s.putCeremony(c, cer)
	return s.jsonAnswer(c, http.StatusOK, assertion)
}

func (s *Server) mfaPasskeyFinish(c *echo.Context) error {
	u := currentUser(c)
	res, err := s.passkeys.FinishSecondFactor(c.Request().Context(), u, s.popCeremony(c), c.Request().Body,
		s.mfaAttempt(c, u), c.RealIP(), s.auditEntry(c, 0, "", ""))
	if errors.Is(err, signin.ErrCeremony) {
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	if res.Refused == db.RefusedIP {
		return &tooMany{retryAfter: res.RetryAfter}
	}
	if key := passkeyRefusal(err, res); key != "" {
		voided, err := s.mfaFailed(c, db.MFAPasskey, res)
		if err != nil {
			return err
		}
		if voided {
			return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: "/login"})
		}
		return s.passkeyError(c, key)
	}
	if err != nil {
		return err
	}
	if err := s.passMFA(c, u, db.MFAPasskey, res); err != nil {
		return err
	}
	next, err := s.nextURL(c, u)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: next})
}

// passkeyRefusal is the message key of a refused second-factor passkey: "" when it was not refused.
func passkeyRefusal(err error, res db.Reservation) string {
	switch {
	case errors.Is(err, signin.ErrPasskeyRefused) && res.Refused != db.NotRefused:
		return "mfa.failed" // locked, or the attempt is void: refused before anything was checked
	case errors.Is(err, signin.ErrPasskeyRefused):
		return "mfa.passkey.failed"
	case errors.Is(err, signin.ErrPasskeyCloned):
		return "mfa.passkey.cloned"
	}
	return ""
}

// passkeyNameFor suggests a name for a new passkey from the browser: "Chrome on Windows".
func passkeyNameFor(l *i18n.Localizer, ua string) string {
	if browser, system := parseUserAgent(ua); browser == "" && system == "" {
		return l.T("mfa.passkey.default_name")
	}
	return deviceName(l, ua)
}
