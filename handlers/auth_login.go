package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/signin"
	"portier/views"
)

func (s *Server) loginPage(c *echo.Context) error {
	ctx := c.Request().Context()
	if u := currentUser(c); u != nil {
		return s.continueTo(c, u)
	}
	v := views.LoginView{Next: safeNext(c.QueryParam("next"), ""), InfoKey: s.sm.PopString(ctx, keyFlash)}
	return s.renderLogin(c, http.StatusOK, v)
}

func (s *Server) renderLogin(c *echo.Context, status int, v views.LoginView) error {
	l := i18n.From(c.Request().Context())
	if s.passkeys != nil {
		v.PasskeyJS = s.assets.URL("passkey.js") // "sign in with a passkey", no password
	}
	v.IdPs = s.idpButtons(c) // "Continue with Microsoft/Google" (oidc.go)
	return s.render(c, status, views.Login(s.shell(c, l.T("login.title")), v), nil)
}

// login checks e-mail and password. Every failure gets the same words, whatever the reason (unknown
// address, wrong password, locked or disabled account), and unknown addresses cost the same hashing time.
func (s *Server) login(c *echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"), "")
	v := views.LoginView{Email: email, Next: next, ErrorKey: "login.failed"}
	res, err := s.signin.Password(ctx, email, password, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	u := res.User
	switch res.Outcome {
	case signin.TooMany:
		return &tooMany{retryAfter: res.RetryAfter}
	case signin.Failed, signin.Locked:
		return s.renderLogin(c, http.StatusUnauthorized, v)
	case signin.PendingEmail:
		return s.renderPendingConfirmation(c, u, email)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	if next != "" {
		s.sm.Put(ctx, keyNext, next)
	}
	s.signin.SignedIn(ctx, u, s.auditEntry(c, 0, "", ""))
	return s.continueTo(c, u)
}

// startSession renews the session token (no fixation), binds it to the person and lists it among their
// sessions.
func (s *Server) startSession(c *echo.Context, u *db.User) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyUID, u.ID)
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	s.sm.Remove(ctx, keyMFAOK)
	// A new sign-in attempt for the second factor, made here once rather than by the first of possibly
	// parallel code requests (each would start an attempt of its own).
	s.mfaAttempt(c, u)
	c.Set(ctxUser, u)
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(ctx, s.i18n.For(u.Lang, u.TimeZone))))
	// RenewToken already set the new token. (Saving the session here marked it committed, so whatever
	// was put afterwards — the "next" page of the sign-in form — was lost.) The epoch is the one read with
	// the password hash: sessions ended since then take this one with them.
	return s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, u.SessionEpoch, c.RealIP(), r.UserAgent())
}

// logout ends the session (a POST: a link or image cannot sign anyone out).
func (s *Server) logout(c *echo.Context) error {
	ctx := c.Request().Context()
	if u := currentUser(c); u != nil {
		if err := s.db.RemoveUserSession(ctx, s.sm.Token(ctx)); err != nil {
			return err
		}
		s.audit(c, 0, "logout", "")
	}
	if err := s.sm.Destroy(ctx); err != nil {
		return err
	}
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "login.signed_out")
	return s.redirect(c, "/login")
}
