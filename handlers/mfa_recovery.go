package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Recovery codes: ten, each usable once in place of the second factor. Shown once (kept sealed in the
// session until the person acknowledges them), downloadable as a text file and printable; only their
// HMAC is stored.

// newRecoveryCodes replaces the person's recovery codes with ten new ones and keeps them (sealed) in the
// session until the person has seen them. first marks the codes that follow the first method.
func (s *Server) newRecoveryCodes(c *echo.Context, u *db.User, first bool) error {
	ctx := c.Request().Context()
	codes, err := s.signin.NewRecoveryCodes(ctx, u, first, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	sealed, err := s.cfg.Sealer.Seal("session", keyMFARecovery, u.ID, []byte(strings.Join(codes, "\n")))
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyMFARecovery, sealed)
	s.sm.Put(ctx, keyMFARecFirst, first)
	return nil
}

// pendingRecovery returns the codes waiting to be acknowledged, or nil.
func (s *Server) pendingRecovery(c *echo.Context, u *db.User) []string {
	sealed := s.sm.GetBytes(c.Request().Context(), keyMFARecovery)
	if len(sealed) == 0 {
		return nil
	}
	b, err := s.cfg.Sealer.Open("session", keyMFARecovery, u.ID, sealed)
	if err != nil {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// useRecoveryCode spends one of the person's codes.
func (s *Server) useRecoveryCode(c *echo.Context, u *db.User, code string) (bool, error) {
	return s.signin.UseRecoveryCode(c.Request().Context(), u, code, s.auditEntry(c, 0, "", ""))
}

// recoveryPage shows new codes once. After the first method it is also "your account is set up": the
// pipeline's last screen.
func (s *Server) recoveryPage(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	codes := s.pendingRecovery(c, u)
	if codes == nil || !s.sm.GetBool(ctx, keyMFAOK) {
		return s.continueTo(c, u)
	}
	first := s.sm.GetBool(ctx, keyMFARecFirst)
	if first && !u.SetupShown {
		if err := s.db.MarkSetupShown(ctx, u.ID); err != nil {
			return err
		}
		u.SetupShown = true
	}
	l := i18n.From(ctx)
	v := views.RecoveryCodesView{First: first, Codes: codes, Created: l.DateTime(s.now()), Assets: s.mfaAssets(false)}
	return s.render(c, http.StatusOK, views.RecoveryCodes(s.shell(c, l.T("mfa.recovery.title")), v), nil)
}

// recoveryDownload answers the codes as a text file, only while they wait to be acknowledged.
func (s *Server) recoveryDownload(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	codes := s.pendingRecovery(c, u)
	if codes == nil || !s.sm.GetBool(ctx, keyMFAOK) {
		return echo.ErrNotFound
	}
	l := i18n.From(ctx)
	var b strings.Builder
	b.WriteString(l.T("mfa.recovery.file_head", "msp", s.msp.Load().Name, "email", u.Email, "date", l.DateTime(s.now())) + "\r\n\r\n")
	for _, code := range codes {
		b.WriteString(code + "\r\n")
	}
	b.WriteString("\r\n" + l.T("mfa.recovery.file_foot") + "\r\n")
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="recovery-codes.txt"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

// recoveryDone forgets the shown codes and goes on.
func (s *Server) recoveryDone(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	first := s.sm.GetBool(ctx, keyMFARecFirst)
	s.sm.Remove(ctx, keyMFARecovery)
	s.sm.Remove(ctx, keyMFARecFirst)
	if !first && s.sm.GetBool(ctx, keyMFAOK) {
		if step, err := s.nextStep(c, u); err != nil {
			return err
		} else if step == "" {
			return s.redirect(c, "/security")
		}
	}
	return s.continueTo(c, u)
}

// regenerateRecovery makes a new set of codes (the old set dies) and shows them.
func (s *Server) regenerateRecovery(c *echo.Context) error {
	u := currentUser(c)
	if !s.recentPassword(c) {
		return s.redirect(c, "/security/confirm?next=%2Fsecurity%23recovery")
	}
	if err := s.newRecoveryCodes(c, u, false); err != nil {
		return err
	}
	return s.redirect(c, "/mfa/recovery")
}
