package handlers

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Sign-in through an organisation's provider (oidc.go): the invitation page.

// inviteIdPPage renders the invitation page of an organisation with a provider: "Continue with …" first,
// with the terms to accept on the same screen, and the password route one link away. It reports false
// when the invitation has no provider to offer (staff invitations, people who have a password, the
// person asked for the password form).
func (s *Server) inviteIdPPage(c *echo.Context, il *accounts.InviteLink) (bool, error) {
	if c.QueryParam("with") == "password" || il.Inv.OrgID == 0 || il.User.PasswordHash != "" {
		return false, nil
	}
	ctx := c.Request().Context()
	p, err := s.db.IdPByOrg(ctx, il.Inv.OrgID)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, s.renderInviteIdP(c, http.StatusOK, il, p, "")
}

func (s *Server) renderInviteIdP(c *echo.Context, status int, il *accounts.InviteLink, p *db.IdP, termsErr string) error {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	token := c.Param("token")
	v := views.InviteIdPView{
		Action: "/invite/" + token + "/idp", PasswordHref: "/invite/" + token + "?with=password",
		LeadArgs: s.inviteArgs(c, il.Inv), Email: il.User.Email, Provider: p.Name, Kind: p.Kind,
	}
	if terms != nil {
		v.Terms = &views.TermsBox{Version: terms.Version, Text: terms.Text(l.Lang), Required: true, ErrorKey: termsErr}
	}
	allowFormActionTo(c, []string{s.idpOrigin(p)})
	return s.render(c, status, views.InviteIdP(s.shell(c, l.T("idp.invite.title", "provider", p.Name)), v), nil)
}

// idpInvite starts the provider sign-in of an invited person, after the terms were accepted on the page.
// The link's token stays out of the session: its hash identifies the invitation when the provider answers.
func (s *Server) idpInvite(c *echo.Context) error {
	ctx := c.Request().Context()
	il, err := s.openInvite(c)
	if il == nil {
		return err
	}
	if il.Inv.OrgID == 0 || il.User.PasswordHash != "" {
		return s.redirect(c, "/invite/"+c.Param("token"))
	}
	p, err := s.db.IdPByOrg(ctx, il.Inv.OrgID)
	if errors.Is(err, db.ErrNotFound) {
		return s.redirect(c, "/invite/"+c.Param("token"))
	}
	if err != nil {
		return err
	}
	f := idpFlow{Purpose: purposeInvite, Invite: base64.RawURLEncoding.EncodeToString(il.Hash())}
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if terms != nil {
		switch got := c.FormValue("terms"); got {
		case strconv.Itoa(terms.Version):
			f.Terms = terms.Version
		case "":
			return s.renderInviteIdP(c, http.StatusUnprocessableEntity, il, p, "setpw.terms.required")
		default:
			return s.renderInviteIdP(c, http.StatusUnprocessableEntity, il, p, "setpw.terms.changed")
		}
	}
	return s.idpStart(c, p, f, il.User.Email)
}
