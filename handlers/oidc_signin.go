package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/idp"
	"portier/views"
)

// Sign-in through an organisation's provider (oidc.go): the sign-in page.

// idpButtons are the sign-in page's "Continue with …" buttons: one per provider name, whatever the number
// of organisations using it. It also lets the page's form reach those providers.
func (s *Server) idpButtons(c *echo.Context) []views.IdPButton {
	ps, err := s.db.IdPs(c.Request().Context())
	if err != nil {
		s.log.Error("identity providers", "err", err)
		return nil
	}
	var out []views.IdPButton
	var origins []string
	seen := map[string]bool{}
	for _, p := range ps {
		if o := s.idpOrigin(p); o != "" && !seen["o "+o] {
			seen["o "+o] = true
			origins = append(origins, o)
		}
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		out = append(out, views.IdPButton{Name: p.Name, Kind: p.Kind})
	}
	allowFormActionTo(c, origins)
	return out
}

// idpSignIn starts a provider sign-in from the sign-in page. When several organisations use providers of
// that name, the e-mail domain picks one; without an address the page asks for it.
func (s *Server) idpSignIn(c *echo.Context) error {
	ctx := c.Request().Context()
	name := c.FormValue("idp")
	email := db.NormalizeEmail(c.FormValue("email"))
	ps, err := s.db.IdPs(ctx)
	if err != nil {
		return err
	}
	var named []*db.IdP
	for _, p := range ps {
		if p.Name == name {
			named = append(named, p)
		}
	}
	p := pickIdP(named, email)
	if p == nil {
		if len(named) == 0 {
			return s.redirect(c, "/login")
		}
		l := i18n.From(ctx)
		v := views.IdPPickView{Name: name, Email: email}
		if email != "" {
			v.ErrorKey = "idp.pick.unknown_domain"
		}
		allowFormActionTo(c, []string{s.idpOrigin(named[0])})
		return s.render(c, http.StatusUnprocessableEntity, views.IdPPick(s.shell(c, l.T("idp.pick.title")), v), nil)
	}
	if next := safeNext(c.FormValue("next"), ""); next != "" {
		s.sm.Put(ctx, keyNext, next)
	}
	hint := ""
	if accounts.ValidEmail(email) {
		hint = email
	}
	return s.idpStart(c, p, idpFlow{Purpose: purposeSignIn}, hint)
}

// pickIdP chooses among providers of one name: the only one, or the one whose domains hold the address.
func pickIdP(ps []*db.IdP, email string) *db.IdP {
	if len(ps) == 1 {
		return ps[0]
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil
	}
	dom := email[at+1:]
	for _, p := range ps {
		ds, _ := idp.ParseDomains(p.Kind, p.Tenant, p.Domains)
		for _, d := range ds {
			if d.Name == dom {
				return p
			}
		}
	}
	return nil
}
