package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
)

// emailChange asks to switch the sign-in address. The new address gets a confirmation link and the old one
// a notice; until the link is used, the old address stays valid. An address another account uses gets the
// same answer and no mail, so the form cannot tell who has an account.
func (s *Server) emailChange(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	raw := strings.TrimSpace(c.FormValue("email"))
	addr := db.NormalizeEmail(raw)
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	v.Email.NewValue = raw
	switch {
	case !accounts.ValidEmail(raw):
		v.Email.EmailErrorKey = "profile.error.email_invalid"
	case addr == db.NormalizeEmail(u.Email):
		v.Email.EmailErrorKey = "profile.error.email_same"
	}
	if v.Email.PasswordErrorKey, err = s.reauth(c, u, c.FormValue("current_password"), "email"); err != nil {
		return err
	}
	if v.Email.EmailErrorKey != "" || v.Email.PasswordErrorKey != "" {
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	// The answer takes as long for an address someone else uses as for a free one (accounts.ChangeEmail).
	start := time.Now()
	if err := s.accounts.ChangeEmail(ctx, u, addr, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	waitFloor(ctx, start)
	return s.profileDone(c, "profile.email.sent")
}

func (s *Server) emailChangeCancel(c *echo.Context) error {
	u := currentUser(c)
	if err := s.db.CancelPendingEmail(c.Request().Context(), u.ID); err != nil {
		return err
	}
	s.audit(c, 0, "email.change_cancel", u.PendingEmail)
	return s.profileDone(c, "profile.email.cancelled")
}
