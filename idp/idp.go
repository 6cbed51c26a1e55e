// Package idp is Portier's OpenID Connect relying party: what MSP administrators may configure for an
// organisation's identity provider, the authorization-code flow with state, nonce and PKCE, the checks on
// the ID token, and the rules that decide which provider account is which person, whether the provider
// vouches for an e-mail address, and whether its sign-in counts as a second factor. No HTTP framework here:
// the handlers and the tests both go through these functions.
package idp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider kinds.
const (
	KindEntra  = "entra"  // Microsoft Entra ID (Microsoft 365)
	KindGoogle = "google" // Google Workspace
	KindOIDC   = "oidc"   // any other OpenID Connect provider
)

// Kinds lists the kinds in the order the form offers them.
var Kinds = []string{KindEntra, KindGoogle, KindOIDC}

// EntraOrganizations is Entra's tenant for app registrations that accept accounts of any organisation.
const EntraOrganizations = "organizations"

// Scopes asked for: the subject, the address and the name. Nothing else is read.
var Scopes = []string{oidc.ScopeOpenID, "email", "profile"}

// Endpoints are where the well-known providers live. Defaults are the public clouds; national clouds (and
// tests) set others.
type Endpoints struct {
	EntraAuthority string // https://login.microsoftonline.com
	GoogleIssuer   string // https://accounts.google.com
}

// DefaultEndpoints are the public clouds.
var DefaultEndpoints = Endpoints{EntraAuthority: "https://login.microsoftonline.com", GoogleIssuer: "https://accounts.google.com"}

// Domain is an e-mail domain the provider vouches for; for Entra, of one tenant ("" = the configured one).
type Domain struct{ Name, Tenant string }

// Settings is one organisation's provider as administrators configured it.
type Settings struct {
	Kind              string
	Name              string // button label
	Tenant            string // Entra: tenant id or "organizations"; Google: hosted domain
	Issuer            string // KindOIDC: issuer URL
	ClientID          string
	ClientSecret      string
	Domains           []Domain
	MFAACR            []string
	RequirePortierMFA bool
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// DefaultName is the button label of a kind when administrators leave it empty.
func DefaultName(kind string) string {
	switch kind {
	case KindEntra:
		return "Microsoft"
	case KindGoogle:
		return "Google"
	}
	return ""
}

// ParseDomains reads the domain list, one per line: "kunde.de", or for Entra with "organizations"
// "kunde.de <tenant id>" (which tenant may vouch for the domain). It returns a translation key on error.
func ParseDomains(kind, tenant, text string) ([]Domain, string) {
	var out []Domain
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(strings.ToLower(line))
		if len(f) == 0 {
			continue
		}
		d := Domain{Name: strings.TrimPrefix(f[0], "@")}
		if !domainRE.MatchString(d.Name) {
			return nil, "idp.form.domains.invalid"
		}
		switch {
		case len(f) == 2 && kind == KindEntra && guidRE.MatchString(f[1]):
			d.Tenant = f[1]
		case len(f) > 1:
			return nil, "idp.form.domains.invalid"
		case kind == KindEntra && strings.EqualFold(tenant, EntraOrganizations):
			return nil, "idp.form.domains.tenant_needed"
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
		if len(out) > 50 {
			return nil, "idp.form.domains.too_many"
		}
	}
	if len(out) == 0 && kind == KindGoogle && domainRE.MatchString(strings.ToLower(tenant)) {
		out = append(out, Domain{Name: strings.ToLower(tenant)})
	}
	if len(out) == 0 {
		return nil, "idp.form.domains.required"
	}
	return out, ""
}

// FormatDomains writes the list back in ParseDomains' syntax.
func FormatDomains(ds []Domain) string {
	lines := make([]string, 0, len(ds))
	for _, d := range ds {
		lines = append(lines, strings.TrimSpace(d.Name+" "+d.Tenant))
	}
	return strings.Join(lines, "\n")
}

// Normalize trims what administrators typed and fills in defaults.
func (s *Settings) Normalize() {
	s.Kind = strings.TrimSpace(s.Kind)
	s.Name = strings.Join(strings.Fields(s.Name), " ")
	if s.Name == "" {
		s.Name = DefaultName(s.Kind)
	}
	s.Tenant = strings.ToLower(strings.TrimSpace(s.Tenant))
	s.Issuer = strings.TrimRight(strings.TrimSpace(s.Issuer), "/")
	s.ClientID = strings.TrimSpace(s.ClientID)
	s.ClientSecret = strings.TrimSpace(s.ClientSecret)
	if s.Kind != KindOIDC {
		s.Issuer = ""
	}
	if s.Kind == KindOIDC {
		s.Tenant = ""
	}
}

// Validate returns a translation key per field that is wrong (empty when all is well). needSecret is
// true when no secret is stored yet.
func (s *Settings) Validate(needSecret bool) map[string]string {
	bad := map[string]string{}
	if !slices.Contains(Kinds, s.Kind) {
		bad["kind"] = "idp.form.kind.invalid"
		return bad
	}
	if n := utf8.RuneCountInString(s.Name); n == 0 || n > 40 || !utf8.ValidString(s.Name) {
		bad["name"] = "idp.form.name.invalid"
	}
	switch s.Kind {
	case KindEntra:
		if !guidRE.MatchString(s.Tenant) && s.Tenant != EntraOrganizations {
			bad["tenant"] = "idp.form.tenant.entra"
		}
	case KindGoogle:
		if !domainRE.MatchString(s.Tenant) {
			bad["tenant"] = "idp.form.tenant.google"
		}
	case KindOIDC:
		if !validIssuer(s.Issuer) {
			bad["issuer"] = "idp.form.issuer.invalid"
		}
	}
	if s.ClientID == "" || len(s.ClientID) > 255 {
		bad["client_id"] = "idp.form.client_id.required"
	}
	if needSecret && s.ClientSecret == "" {
		bad["client_secret"] = "idp.form.client_secret.required"
	}
	if len(s.ClientSecret) > 1024 {
		bad["client_secret"] = "idp.form.client_secret.too_long"
	}
	if len(s.Domains) == 0 {
		bad["domains"] = "idp.form.domains.required"
	}
	if len(s.MFAACR) > 10 {
		bad["mfa_acr"] = "idp.form.mfa_acr.invalid"
	}
	for _, a := range s.MFAACR {
		if len(a) > 200 {
			bad["mfa_acr"] = "idp.form.mfa_acr.invalid"
		}
	}
	return bad
}

// validIssuer accepts https URLs, and plain http only on the loopback interface (a provider on the same
// machine, as in tests).
func validIssuer(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// discovery returns where the provider's discovery document is, and the issuer every ID token must name
// ("" when it depends on the token: Entra's "organizations").
func (s *Settings) discovery(ep Endpoints) (discoveryIssuer string, fixedIssuer bool) {
	switch s.Kind {
	case KindEntra:
		return strings.TrimRight(ep.EntraAuthority, "/") + "/" + s.Tenant + "/v2.0", s.Tenant != EntraOrganizations
	case KindGoogle:
		return ep.GoogleIssuer, true
	}
	return s.Issuer, true
}

// entraIssuer is the issuer of an Entra tenant's tokens.
func entraIssuer(ep Endpoints, tid string) string {
	return strings.TrimRight(ep.EntraAuthority, "/") + "/" + tid + "/v2.0"
}

// ---------------------------------------------------------------------------------------------------------
// The flow.

// Flow is what one sign-in round trip must remember between leaving for the provider and coming back.
// It is kept in Portier's session (never in a URL beyond the state itself) and used exactly once.
type Flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // PKCE code verifier
}

// NewFlow makes fresh random values: 32 bytes each for state and nonce, and a PKCE verifier.
func NewFlow() Flow {
	return Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
}

func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Client talks to one configured provider.
type Client struct {
	s        Settings
	ep       Endpoints
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	http     *http.Client
}

// Errors of the round trip, for the handlers to word.
var (
	ErrDiscovery = errors.New("idp: the provider's discovery document could not be read")
	ErrExchange  = errors.New("idp: the provider refused the authorization code")
	ErrToken     = errors.New("idp: the ID token failed a check")
)

// cache keeps discovered providers (and with them the cached signing keys) for an hour.
type cache struct {
	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	p  *oidc.Provider
	at time.Time
}

var providers = &cache{m: map[string]cached{}}

// httpClient bounds every call to a provider: a slow provider must not hold a request forever.
var httpClient = &http.Client{Timeout: 15 * time.Second}

// New discovers the provider (or reuses a discovery younger than an hour) and prepares the client.
// redirectURL is the exact callback address registered at the provider.
func New(ctx context.Context, ep Endpoints, s Settings, redirectURL string, now func() time.Time) (*Client, error) {
	issuer, fixed := s.discovery(ep)
	ctx = oidc.ClientContext(ctx, httpClient)
	key := issuer
	providers.mu.Lock()
	c, ok := providers.m[key]
	providers.mu.Unlock()
	if !ok || time.Since(c.at) > time.Hour {
		dctx := ctx
		if !fixed {
			// Entra's multi-tenant document names "{tenantid}" as its issuer; each token names its own
			// tenant, checked in Exchange.
			dctx = oidc.InsecureIssuerURLContext(ctx, strings.TrimRight(ep.EntraAuthority, "/")+"/{tenantid}/v2.0")
		}
		p, err := oidc.NewProvider(dctx, issuer)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDiscovery, err)
		}
		c = cached{p: p, at: time.Now()}
		providers.mu.Lock()
		providers.m[key] = c
		providers.mu.Unlock()
	}
	cl := &Client{s: s, ep: ep, provider: c.p, http: httpClient}
	cl.oauth = oauth2.Config{
		ClientID: s.ClientID, ClientSecret: s.ClientSecret, Endpoint: c.p.Endpoint(),
		RedirectURL: redirectURL, Scopes: Scopes,
	}
	cl.verifier = c.p.VerifierContext(oidc.ClientContext(context.Background(), httpClient),
		&oidc.Config{ClientID: s.ClientID, Now: now, SkipIssuerCheck: !fixed})
	return cl, nil
}

// AuthURL is where the person is sent: code flow with state, nonce and PKCE (S256). loginHint pre-fills
// the address at the provider when Portier knows it.
func (c *Client) AuthURL(f Flow, loginHint string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	if c.s.Kind == KindGoogle {
		// Google shows only accounts of this Workspace domain (a hint; the hd claim is what is checked).
		opts = append(opts, oauth2.SetAuthURLParam("hd", c.s.Tenant))
	}
	return c.oauth.AuthCodeURL(f.State, opts...)
}

// Exchange trades the code for tokens and checks the ID token: signature (the provider's published keys),
// issuer, audience, expiry and the flow's nonce. Access and refresh tokens are dropped here: Portier
// keeps no provider token.
func (c *Client) Exchange(ctx context.Context, f Flow, code string) (*Identity, error) {
	ctx = oidc.ClientContext(ctx, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExchange, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no id_token in the answer", ErrToken)
	}
	t, err := c.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if t.Nonce == "" || t.Nonce != f.Nonce {
		return nil, fmt.Errorf("%w: nonce does not match this sign-in", ErrToken)
	}
	claims := map[string]any{}
	if err := t.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	id := identityOf(claims)
	if c.s.Kind == KindEntra {
		if id.TenantID == "" || id.ObjectID == "" {
			return nil, fmt.Errorf("%w: Entra token without tid or oid", ErrToken)
		}
		if id.Issuer != entraIssuer(c.ep, id.TenantID) {
			return nil, fmt.Errorf("%w: issuer %q is not tenant %s's", ErrToken, id.Issuer, id.TenantID)
		}
		if c.s.Tenant != EntraOrganizations && !strings.EqualFold(id.TenantID, c.s.Tenant) {
			return nil, fmt.Errorf("%w: token of tenant %s, configured %s", ErrToken, id.TenantID, c.s.Tenant)
		}
	}
	if id.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrToken)
	}
	id.Key = c.s.SubjectKey(id)
	id.Vouched, id.RefusalKey = c.s.Vouch(id)
	id.ProviderMFA = c.s.ProviderMFA(id)
	return id, nil
}

// ---------------------------------------------------------------------------------------------------------
// Who signed in, and what the provider vouches for.

// Identity is what a checked ID token says.
type Identity struct {
	Key         string // the stable key of the account: see SubjectKey
	Issuer      string
	Subject     string
	TenantID    string // Entra: tid
	ObjectID    string // Entra: oid
	Email       string
	Verified    bool   // email_verified
	HostedDom   string // Google: hd
	Name        string
	AMR         []string
	ACR         string
	Vouched     bool   // the provider vouches for Email (Vouch)
	RefusalKey  string // why not, as a translation key
	ProviderMFA bool   // the sign-in counts as a second factor (ProviderMFA)
	Claims      map[string]any
	folded      bool // lower-casing turned a non-ASCII letter of the address into an ASCII one
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// identityOf reads the claims Portier uses. email_verified is a boolean, but some providers send the
// string "true".
func identityOf(m map[string]any) *Identity {
	id := &Identity{
		Issuer: str(m, "iss"), Subject: str(m, "sub"), TenantID: strings.ToLower(str(m, "tid")),
		ObjectID: strings.ToLower(str(m, "oid")), HostedDom: strings.ToLower(str(m, "hd")), Name: str(m, "name"),
		ACR: str(m, "acr"), Claims: m,
	}
	id.Email, id.folded = lowerAddress(str(m, "email"))
	switch v := m["email_verified"].(type) {
	case bool:
		id.Verified = v
	case string:
		id.Verified = v == "true"
	}
	switch v := m["amr"].(type) {
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				id.AMR = append(id.AMR, s)
			}
		}
	case string:
		id.AMR = []string{v}
	}
	if id.Email == "" {
		// Entra sends the address as preferred_username (the sign-in name) when the email claim is not set up.
		if p, folded := lowerAddress(str(m, "preferred_username")); strings.Contains(p, "@") {
			id.Email, id.folded = p, folded
		}
	}
	return id
}

// lowerAddress lower-cases an address as Portier stores addresses, and reports whether that turned a
// non-ASCII letter into an ASCII one (the Kelvin sign K becomes k): the provider vouched for another
// mailbox than the one the lowered address names.
func lowerAddress(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	folded := false
	for _, r := range raw {
		if r >= utf8.RuneSelf && unicode.ToLower(r) < utf8.RuneSelf {
			folded = true
		}
	}
	return strings.ToLower(raw), folded
}

// SubjectKey is the account's stable key: for Entra the tenant and the object id (the same across app
// registrations, unlike sub), for any other provider issuer and subject. Never the e-mail address, which
// the person or their administrator can change.
func (s *Settings) SubjectKey(id *Identity) string {
	if s.Kind == KindEntra {
		return "entra " + id.TenantID + " " + id.ObjectID
	}
	return id.Issuer + " " + id.Subject
}

// Vouch decides whether the provider vouches for the address in the token: Entra when the domain is one
// administrators entered for the token's tenant (Entra does not verify the email claim itself); Google when
// email_verified and the hosted domain is the configured one; any other provider when email_verified. The
// domain must be in the list in every case.
func (s *Settings) Vouch(id *Identity) (bool, string) {
	at := strings.LastIndexByte(id.Email, '@')
	if at < 0 {
		return false, "idp.refused.no_email"
	}
	if id.folded {
		return false, "idp.refused.unvouched"
	}
	dom := id.Email[at+1:]
	listed := func(tenant string) bool {
		for _, d := range s.Domains {
			if d.Name != dom {
				continue
			}
			if s.Kind != KindEntra {
				return true
			}
			t := d.Tenant
			if t == "" {
				t = s.Tenant
			}
			if strings.EqualFold(t, tenant) {
				return true
			}
		}
		return false
	}
	switch s.Kind {
	case KindEntra:
		if !listed(id.TenantID) {
			return false, "idp.refused.unvouched"
		}
	case KindGoogle:
		if !id.Verified {
			return false, "idp.refused.unverified"
		}
		if id.HostedDom == "" || id.HostedDom != s.Tenant || !listed("") {
			return false, "idp.refused.unvouched"
		}
	default:
		if !id.Verified {
			return false, "idp.refused.unverified"
		}
		if !listed("") {
			return false, "idp.refused.unvouched"
		}
	}
	return true, ""
}

// TenantListed reports whether a multi-tenant Entra registration ("organizations") still names the token's
// tenant in its domain list. Every tenant can sign in to such an app; only the listed ones speak for
// anybody, also for accounts linked while the list named another tenant. Other providers have one issuer,
// checked with the token.
func (s *Settings) TenantListed(id *Identity) bool {
	if s.Kind != KindEntra || s.Tenant != EntraOrganizations {
		return true
	}
	for _, d := range s.Domains {
		if strings.EqualFold(d.Tenant, id.TenantID) {
			return true
		}
	}
	return false
}

// ProviderMFA reports whether the provider says a second factor was used: amr contains "mfa", or acr is
// one of the configured values. The organisation's RequirePortierMFA is not looked at here (see
// Settings.AcceptsProviderMFA).
func (s *Settings) ProviderMFA(id *Identity) bool {
	if slices.Contains(id.AMR, "mfa") {
		return true
	}
	return id.ACR != "" && slices.Contains(s.MFAACR, id.ACR)
}

// AcceptsProviderMFA is the one rule for whether Portier skips its own second factor.
func (s *Settings) AcceptsProviderMFA(id *Identity) bool {
	return !s.RequirePortierMFA && s.ProviderMFA(id)
}

// ShownClaims are the token's claims for the "test connection" page: no token, no hash of one.
func (id *Identity) ShownClaims() map[string]any {
	out := make(map[string]any, len(id.Claims))
	for k, v := range id.Claims {
		switch k {
		case "at_hash", "c_hash", "access_token", "refresh_token", "id_token", "nonce":
			continue
		}
		out[k] = v
	}
	return out
}
