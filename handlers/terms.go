package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/i18n"
	"portier/views"
)

// The terms of use: shown until the person accepts the current version; declining signs out.

// termsPage shows the current terms to anyone; a signed-in person who has not accepted them is asked to.
func (s *Server) termsPage(c *echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.db.CurrentTerms(ctx)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	v := views.TermsView{Version: t.Version, Text: t.Text(l.Lang), Published: l.Date(t.PublishedAt)}
	if u := currentUser(c); u != nil && u.TermsVersion < t.Version {
		v.MustAccept = true
	}
	return s.render(c, http.StatusOK, views.TermsPage(s.shell(c, l.T("terms.title")), v), nil)
}

// termsDecide records acceptance (person, version, time, IP) or signs out on decline.
func (s *Server) termsDecide(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	t, err := s.db.CurrentTerms(ctx)
	if err != nil {
		return err
	}
	if c.FormValue("decision") == "decline" {
		s.audit(c, 0, "terms.decline", strconv.Itoa(t.Version))
		if err := s.db.RemoveUserSession(ctx, s.sm.Token(ctx)); err != nil {
			return err
		}
		if err := s.sm.Destroy(ctx); err != nil {
			return err
		}
		if err := s.sm.RenewToken(ctx); err != nil {
			return err
		}
		s.sm.Put(ctx, keyFlash, "terms.declined")
		return s.redirect(c, "/login")
	}
	if c.FormValue("decision") != "accept" || c.FormValue("version") != strconv.Itoa(t.Version) {
		// The terms changed while the page was open: show the new version.
		return s.redirect(c, "/terms")
	}
	if err := s.signin.AcceptTerms(ctx, u, t.Version, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	u.TermsVersion = t.Version
	return s.continueTo(c, u)
}
