package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/idp"
	"portier/views"
)

// Sign-in through an organisation's OpenID Connect provider (Microsoft Entra ID, Google Workspace, any
// other): the buttons on the sign-in and invitation pages, the round trip, and the hand-over to Portier's
// own session and second-factor steps. Administrators configure providers in staff_idp.go; the rules (what
// is checked in the token, which account is whose, what counts as a second factor) live in package idp.
// This file holds what the flows share; each flow has its file: oidc_signin.go (the sign-in page),
// oidc_invite.go (the invitation page), oidc_callback.go (the provider's answer), oidc_link.go (linking
// from the security page).

// Session keys of the provider sign-in.
const (
	keyIdPFlow = "idp_flow" // the round trip under way (JSON of idpFlow); removed when the provider answers
	keyIdPMFA  = "idp_mfa"  // the person (id) whose second factor the provider vouched for in this session
	keyIdPOrg  = "idp_org"  // the organisation whose provider that was
)

// idpFlowTTL is how long a round trip may take: the provider's sign-in page, maybe its second factor.
const idpFlowTTL = 10 * time.Minute

// Purposes of a round trip.
const (
	purposeSignIn = "signin" // the sign-in page
	purposeInvite = "invite" // an invitation link
	purposeTest   = "test"   // an administrator's "test connection"
	purposeLink   = "link"   // a signed-in person links their provider account (security page)
)

// idpFlow is what the session remembers between leaving for the provider and coming back.
type idpFlow struct {
	idp.Flow
	IdP     int64  `json:"p"`
	Purpose string `json:"k"`
	Invite  string `json:"i,omitempty"` // the invitation's token hash (base64url), never the token
	Terms   int    `json:"t,omitempty"` // the terms version accepted on the invitation page
	UID     int64  `json:"u,omitempty"` // purposeLink: who asked to link
	At      int64  `json:"a"`
}

// idpRedirectURL is the one callback address registered at every provider: from the configured base URL,
// never from the request.
func (s *Server) idpRedirectURL() string { return s.link("/oidc/callback") }

// idpSettings turns a stored provider into the idp package's settings, secret opened.
func (s *Server) idpSettings(p *db.IdP) (idp.Settings, error) {
	secret, err := p.Secret(s.cfg.Sealer)
	if err != nil {
		return idp.Settings{}, err
	}
	ds, _ := idp.ParseDomains(p.Kind, p.Tenant, p.Domains)
	return idp.Settings{
		Kind: p.Kind, Name: p.Name, Tenant: p.Tenant, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret,
		Domains: ds, MFAACR: strings.Fields(p.MFAACR), RequirePortierMFA: p.RequirePortierMFA,
	}, nil
}

// idpClient discovers the provider and prepares a client for it.
func (s *Server) idpClient(ctx context.Context, p *db.IdP) (*idp.Client, idp.Settings, error) {
	st, err := s.idpSettings(p)
	if err != nil {
		return nil, st, err
	}
	cl, err := idp.New(ctx, s.cfg.IdPEndpoints, st, s.idpRedirectURL(), s.now)
	return cl, st, err
}

// idpStart remembers a new round trip in the session and sends the browser to the provider.
func (s *Server) idpStart(c *echo.Context, p *db.IdP, f idpFlow, loginHint string) error {
	ctx := c.Request().Context()
	cl, _, err := s.idpClient(ctx, p)
	if err != nil {
		s.log.Warn("identity provider unreachable", "idp", p.ID, "err", err)
		return s.idpProblem(c, http.StatusBadGateway, "idp.error.unreachable", p.Name)
	}
	f.Flow, f.IdP, f.At = idp.NewFlow(), p.ID, s.now().Unix()
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyIdPFlow, string(b))
	return s.redirect(c, cl.AuthURL(f.Flow, loginHint))
}

// idpProblem explains, in the person's language and with the support contact, why the provider sign-in
// did not work. Nothing the provider sent is shown: its error texts are logged only.
func (s *Server) idpProblem(c *echo.Context, status int, key, provider string) error {
	l := i18n.From(c.Request().Context())
	if provider == "" {
		provider = l.T("idp.provider_generic")
	}
	v := views.MessageView{
		TitleKey: "idp.problem.title", TextKey: key, TextArgs: []any{"provider", provider}, Kind: "error",
		ShowSupport: true, TestID: "idp-problem", LinkKey: "link.login", LinkHref: "/login",
	}
	c.Response().Header().Set("X-Portier-Refusal", strings.TrimPrefix(key, "idp."))
	return s.render(c, status, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// allowFormActionTo extends this page's form-action to the providers' sign-in addresses: browsers apply
// form-action to the redirect a form submission follows, and these forms end at the provider.
func allowFormActionTo(c *echo.Context, origins []string) {
	if len(origins) == 0 {
		return
	}
	h := c.Response().Header()
	csp := h.Get("Content-Security-Policy")
	h.Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1))
}

// idpOrigin is where a provider's sign-in page lives, for the page's form-action: the origin of the
// Entra authority, of Google's issuer, or of the configured issuer. Only scheme, host and port of a
// parsed URL reach the header.
func (s *Server) idpOrigin(p *db.IdP) string {
	raw := p.Issuer
	switch p.Kind {
	case idp.KindEntra:
		raw = s.cfg.IdPEndpoints.EntraAuthority
	case idp.KindGoogle:
		raw = s.cfg.IdPEndpoints.GoogleIssuer
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
