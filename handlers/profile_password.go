package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/db"
	"portier/signin"
)

// reauth checks the current password of a signed-in person before a sensitive change. A wrong password
// counts as a failed sign-in (the account lock and the per-address throttle apply), and during a lock even
// the right one is refused. It returns the translation key of the problem, "" when the password is right.
func (s *Server) reauth(c *echo.Context, u *db.User, password, what string) (string, error) {
	ctx := c.Request().Context()
	if password == "" {
		return "profile.error.current_required", nil
	}
	res, err := s.signin.Reauthenticate(ctx, u, password, what, s.auditEntry(c, 0, "", ""))
	switch {
	case err != nil:
		return "", err
	case res.Outcome == signin.TooMany:
		return "", &tooMany{retryAfter: res.RetryAfter}
	case res.Outcome == signin.Locked:
		return "profile.error.locked", nil
	case res.Outcome != signin.OK:
		return "profile.error.current_password", nil
	}
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	return "", nil
}

// passwordChange sets a new password after checking the current one. Every other session of the person
// ends and every reset link dies; this session stays signed in under a new token. A notification mail
// (without any secret) goes to the person's address.
func (s *Server) passwordChange(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	current, next, repeat := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("new_password2")
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	personal, err := s.personalOf(ctx, u)
	if err != nil {
		return err
	}
	v.Password.Rules, v.Password.Unmet = s.passwordRules(next, repeat, personal)
	if !samePassword(next, repeat) {
		v.Password.RepeatErrorKey = auth.MatchKey
	}
	if v.Password.CurrentErrorKey, err = s.reauth(c, u, current, "password"); err != nil {
		return err
	}
	if v.Password.CurrentErrorKey != "" || len(v.Password.Unmet) > 0 || v.Password.RepeatErrorKey != "" {
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	epoch, err := s.signin.ChangePassword(ctx, u, next, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	// SetPassword ended every session, this one included: carry on here under a fresh token.
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	if err := s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, epoch, c.RealIP(), c.Request().UserAgent()); err != nil {
		return err
	}
	return s.profileDone(c, "profile.password.changed")
}
