package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/idp"
	"portier/views"
)

// Administrators connect an organisation's identity provider, test it, and unlink provider accounts.

func (s *Server) staffIdPRoutes() {
	e := s.e
	admin := []echo.MiddlewareFunc{s.complete, s.staffOnly, s.adminOnly}
	e.GET("/staff/orgs/:slug/idp", s.idpPage, admin...)
	e.POST("/staff/orgs/:slug/idp", s.idpSave, admin...)
	e.POST("/staff/orgs/:slug/idp/delete", s.idpDelete, admin...)
	e.POST("/staff/orgs/:slug/idp/test", s.idpTest, admin...)
	e.POST("/staff/orgs/:slug/idp/identities/:id/unlink", s.idpUnlink, admin...)
}

// idpOrg loads the organisation of the route and its provider (nil when it has none).
func (s *Server) idpOrg(c *echo.Context) (*db.Org, *db.IdP, error) {
	ctx := c.Request().Context()
	o, err := s.db.OrgBySlug(ctx, c.Param("slug"))
	if err != nil {
		return nil, nil, err
	}
	p, err := s.db.IdPByOrg(ctx, o.ID)
	if errors.Is(err, db.ErrNotFound) {
		return o, nil, nil
	}
	return o, p, err
}

// idpFormView fills the page from the stored provider (or the defaults for a new one).
func (s *Server) idpFormView(c *echo.Context, o *db.Org, p *db.IdP) (views.IdPFormView, error) {
	v := views.IdPFormView{Nav: staffNav(c, "orgs"), OrgName: o.Name, OrgSlug: o.Slug, RedirectURI: s.idpRedirectURL(), Kind: idp.KindEntra}
	if p == nil {
		return v, nil
	}
	allowFormActionTo(c, []string{s.idpOrigin(p)}) // "test connection" ends at the provider
	v.Exists, v.Kind, v.Name, v.Tenant, v.Issuer, v.ClientID = true, p.Kind, p.Name, p.Tenant, p.Issuer, p.ClientID
	v.HasSecret, v.Domains, v.MFAACR, v.RequirePortierMFA = p.HasSecret, p.Domains, p.MFAACR, p.RequirePortierMFA
	ids, err := s.db.Identities(c.Request().Context(), p.ID)
	if err != nil {
		return v, err
	}
	l := i18n.From(c.Request().Context())
	for _, i := range ids {
		row := views.IdPIdentityRow{ID: i.ID, Person: i.UserName, Email: i.UserEmail, Subject: i.Subject, Linked: l.DateTime(i.CreatedAt)}
		if row.Person == "" {
			row.Person = i.UserEmail
		}
		if !i.LastUsedAt.IsZero() {
			row.LastUsed = l.DateTime(i.LastUsedAt)
		}
		v.Identities = append(v.Identities, row)
	}
	return v, nil
}

func (s *Server) renderIdPForm(c *echo.Context, status int, v views.IdPFormView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.IdPForm(s.shell(c, l.T("idp.form.title", "org", v.OrgName)), v), nil)
}

func (s *Server) idpPage(c *echo.Context) error {
	o, p, err := s.idpOrg(c)
	if err != nil {
		return err
	}
	v, err := s.idpFormView(c, o, p)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderIdPForm(c, http.StatusOK, v)
}

// idpSave checks and stores the form. The secret is sealed to its row; an empty secret field keeps the
// stored one.
func (s *Server) idpSave(c *echo.Context) error {
	ctx := c.Request().Context()
	o, p, err := s.idpOrg(c)
	if err != nil {
		return err
	}
	st := idp.Settings{
		Kind: c.FormValue("kind"), Name: c.FormValue("name"), Tenant: c.FormValue("tenant"), Issuer: c.FormValue("issuer"),
		ClientID: c.FormValue("client_id"), ClientSecret: c.FormValue("client_secret"),
		MFAACR: strings.Fields(c.FormValue("mfa_acr")), RequirePortierMFA: c.FormValue("require_portier_mfa") == "1",
	}
	st.Normalize()
	domainsText := c.FormValue("domains")
	var domErr string
	st.Domains, domErr = idp.ParseDomains(st.Kind, st.Tenant, domainsText)
	bad := st.Validate(p == nil || !p.HasSecret)
	if domErr != "" {
		bad["domains"] = domErr
	}
	if len(bad) > 0 {
		v, err := s.idpFormView(c, o, p)
		if err != nil {
			return err
		}
		v.Kind, v.Name, v.Tenant, v.Issuer, v.ClientID = st.Kind, st.Name, st.Tenant, st.Issuer, st.ClientID
		v.Domains, v.MFAACR, v.RequirePortierMFA = domainsText, strings.Join(st.MFAACR, " "), st.RequirePortierMFA
		v.KindErr, v.NameErr, v.TenantErr, v.IssuerErr = bad["kind"], bad["name"], bad["tenant"], bad["issuer"]
		v.ClientIDErr, v.SecretErr, v.DomainsErr, v.ACRErr = bad["client_id"], bad["client_secret"], bad["domains"], bad["mfa_acr"]
		v.ErrorKey = "idp.form.invalid"
		return s.renderIdPForm(c, http.StatusUnprocessableEntity, v)
	}
	row := &db.IdP{
		OrgID: o.ID, Kind: st.Kind, Name: st.Name, Tenant: st.Tenant, Issuer: st.Issuer, ClientID: st.ClientID,
		Domains: idp.FormatDomains(st.Domains), MFAACR: strings.Join(st.MFAACR, " "), RequirePortierMFA: st.RequirePortierMFA,
	}
	// The audit names the provider, never the secret.
	target := st.Name + " (" + st.Kind + " " + st.Tenant + st.Issuer + ")"
	if err := s.db.SaveIdP(ctx, s.cfg.Sealer, row, st.ClientSecret, s.auditEntry(c, o.ID, "idp.save", target)); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "idp.form.saved")
	return s.redirect(c, "/staff/orgs/"+o.Slug+"/idp")
}

func (s *Server) idpDelete(c *echo.Context) error {
	ctx := c.Request().Context()
	o, p, err := s.idpOrg(c)
	if err != nil {
		return err
	}
	if p == nil {
		return db.ErrNotFound
	}
	if err := s.db.DeleteIdP(ctx, o.ID, s.auditEntry(c, o.ID, "idp.delete", p.Name)); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "idp.delete.done")
	return s.redirect(c, "/staff/orgs/"+o.Slug+"/idp")
}

// idpUnlink removes a provider account from a person; their sessions end with it.
func (s *Server) idpUnlink(c *echo.Context) error {
	ctx := c.Request().Context()
	o, p, err := s.idpOrg(c)
	if err != nil {
		return err
	}
	if p == nil {
		return db.ErrNotFound
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.ErrNotFound
	}
	_, err = s.db.UnlinkIdentity(ctx, p.ID, id, func(i *db.Identity) db.AuditEntry {
		return s.auditEntry(c, o.ID, "idp.unlink", p.Name+": "+i.Subject)
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "idp.linked.unlinked")
	return s.redirect(c, "/staff/orgs/"+o.Slug+"/idp")
}

// idpTest runs a real round trip for the administrator; the callback shows what came back.
func (s *Server) idpTest(c *echo.Context) error {
	_, p, err := s.idpOrg(c)
	if err != nil {
		return err
	}
	if p == nil {
		return db.ErrNotFound
	}
	return s.idpStart(c, p, idpFlow{Purpose: purposeTest}, "")
}

// idpTestResult shows an administrator what the provider returned: the checked token's claims without
// any token, the key the account would be linked by, and what Portier would make of address and factor.
// Nothing is linked and nobody is signed in.
func (s *Server) idpTestResult(c *echo.Context, p *db.IdP, st idp.Settings, id *idp.Identity) error {
	u := currentUser(c)
	if u == nil || !u.IsAdmin() {
		return echo.ErrNotFound
	}
	if step, err := s.nextStep(c, u); err != nil || step != "" {
		return echo.ErrNotFound // the round trip was started by an administrator who has since been signed out
	}
	o, err := s.db.OrgByID(c.Request().Context(), p.OrgID)
	if err != nil {
		return err
	}
	s.audit(c, p.OrgID, "idp.test", p.Name+": "+id.Key)
	v := views.IdPTestView{
		Nav: staffNav(c, "orgs"), OrgName: o.Name, OrgSlug: o.Slug, Provider: p.Name, Subject: id.Key, Email: id.Email,
		Vouched: id.Vouched, RefusalKey: id.RefusalKey, ProviderMFA: id.ProviderMFA, AcceptsMFA: st.AcceptsProviderMFA(id),
	}
	claims := id.ShownClaims()
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b, err := json.Marshal(claims[k])
		if err != nil {
			continue
		}
		v.Claims = append(v.Claims, views.ClaimRow{Name: k, Value: string(b)})
	}
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.IdPTest(s.shell(c, l.T("idp.test.result.title", "provider", p.Name)), v), nil)
}
