package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The setup link for the first administrator (accounts/setup.go): its page and its form.

func (s *Server) setupPage(c *echo.Context) error {
	ok, err := s.accounts.SetupLinkValid(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	return s.renderSetup(c, http.StatusOK, views.SetupView{Lang: i18n.From(c.Request().Context()).Lang})
}

func (s *Server) renderSetup(c *echo.Context, status int, v views.SetupView) error {
	l := i18n.From(c.Request().Context())
	v.Action = c.Request().URL.Path
	return s.render(c, status, views.Setup(s.shell(c, l.T("setup.first.title")), v), nil)
}

// setupCreate makes the first administrator: an invitation like any other (same checks) but without its
// mail, since the browser goes straight on to its "set your password" page. After the first sign-in the
// administrator names the MSP (staff_msp_setup.go).
func (s *Server) setupCreate(c *echo.Context) error {
	ctx := c.Request().Context()
	ok, err := s.accounts.SetupLinkValid(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	v := views.SetupView{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")), Lang: c.FormValue("lang")}
	if !i18n.Supported(v.Lang) {
		v.Lang = i18n.From(ctx).Lang
	}
	if !accounts.ValidEmail(v.Email) {
		v.EmailErr = "setup.first.email_invalid"
	}
	v.NameErr = accounts.NameProblem(v.Name)
	if v.EmailErr != "" || v.NameErr != "" {
		return s.renderSetup(c, http.StatusUnprocessableEntity, v)
	}
	sent, err := s.accounts.InviteFirstAdmin(ctx, c.Param("token"), v.Email, v.Name, v.Lang, s.auditEntry(c, 0, "", ""))
	if errors.Is(err, accounts.ErrLinkUsed) {
		return s.linkProblem(c, db.TokenUsed, "setup")
	}
	if err != nil {
		return err
	}
	return s.redirect(c, strings.TrimPrefix(sent.Link, strings.TrimRight(s.cfg.BaseURL.String(), "/")))
}
