package testkit

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// OIDCProvider is a real OpenID Provider (zitadel/oidc's certified op package) on loopback, for tests of
// a relying party. It serves several issuers ("realms") from one server: an Entra-like tenant at
// /<tenant id>/v2.0, a Google-like or any other issuer at /<name>. Who signs in is decided by the test
// (SignInAs), and so is what goes wrong (Deny, ExpiredTokens, WrongKey). There is no login page: the
// provider's own screen is not what the tests look at.
type OIDCProvider struct {
	t    testing.TB
	srv  *httptest.Server
	op   *op.Provider
	base string

	mu       sync.Mutex
	realms   []string // path prefixes, longest first
	clients  map[string]*oidcClient
	users    map[string]*OIDCUser // by realm + " " + subject
	next     *OIDCUser
	nextRlm  string
	deny     string
	lifetime time.Duration
	now      func() time.Time // the portal's clock (SetClock)
	wrongKey bool
	requests map[string]*oidcAuthRequest
	codes    map[string]string // code → request id

	key, otherKey *rsa.PrivateKey
}

// OIDCUser is an account at the provider, with the claims its ID tokens carry.
type OIDCUser struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	AMR           []string       // e.g. []string{"pwd", "mfa"}
	ACR           string         // optional
	Extra         map[string]any // further claims: tid and oid (Entra), hd (Google)
}

type realmKey struct{}

// issuerKey overrides the realm in the issuer of a token: Entra's multi-tenant authority issues each
// token in the name of the person's own tenant.
type issuerKey struct{}

// EntraOrganizations is the realm of Entra's multi-tenant authority: its discovery document names
// "{tenantid}" as issuer, and each ID token the tenant of its user (Extra["tid"]).
const EntraOrganizations = "/organizations/v2.0"

// OIDC starts the provider; it stops with the test.
func OIDC(t testing.TB) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{
		t: t, clients: map[string]*oidcClient{}, users: map[string]*OIDCUser{}, lifetime: 5 * time.Minute, now: time.Now,
		requests: map[string]*oidcAuthRequest{}, codes: map[string]string{},
	}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewUnstartedServer(nil)
	p.base = "http://" + p.srv.Listener.Addr().String()
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string {
			if realm, ok := r.Context().Value(issuerKey{}).(string); ok {
				return p.base + realm
			}
			realm, _ := r.Context().Value(realmKey{}).(string)
			return p.base + realm
		}, nil
	}
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("portier test provider")), CodeMethodS256: true, AuthMethodPost: true}
	p.op, err = op.NewProvider(cfg, &oidcStorage{p: p}, issuer, op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	p.srv.Config.Handler = http.HandlerFunc(p.serve)
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

// Base is the server's address, http://127.0.0.1:port.
func (p *OIDCProvider) Base() string { return p.base }

// Issuer registers a realm (a path such as "/corp", or "/<tenant>/v2.0" for an Entra tenant) and returns
// its issuer URL.
func (p *OIDCProvider) Issuer(realm string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.realms, realm) {
		p.realms = append(p.realms, realm)
		sort.Slice(p.realms, func(i, j int) bool { return len(p.realms[i]) > len(p.realms[j]) })
	}
	return p.base + realm
}

// EntraTenant registers the Entra-like realm of a tenant; the authority to configure is Base().
func (p *OIDCProvider) EntraTenant(tid string) string { return p.Issuer("/" + tid + "/v2.0") }

// Client registers a confidential client with exactly one redirect URI.
func (p *OIDCProvider) Client(id, secret, redirectURI string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[id] = &oidcClient{id: id, secret: secret, redirect: redirectURI, p: p}
}

// SignInAs decides who the next sign-in at the realm is (the provider's own page is skipped).
func (p *OIDCProvider) SignInAs(realm string, u *OIDCUser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next, p.nextRlm, p.deny = u, realm, ""
	p.users[realm+" "+u.Subject] = u
}

// Deny makes the next sign-in end with an OAuth error (e.g. "access_denied").
func (p *OIDCProvider) Deny(code string) { p.mu.Lock(); p.deny = code; p.mu.Unlock() }

// ExpiredTokens makes ID tokens expire before they are issued (or not).
func (p *OIDCProvider) ExpiredTokens(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lifetime = 5 * time.Minute
	if on {
		p.lifetime = -time.Hour
	}
}

// SetClock puts the provider on the portal's clock (a test's injected one): ID tokens then expire, and
// sign-ins happen, when that clock says, also after the test moved it or started it at another instant
// (testkit.Now). The library stamps a token with the real time, so its lifetime is shifted by the
// difference.
func (p *OIDCProvider) SetClock(now func() time.Time) { p.mu.Lock(); p.now = now; p.mu.Unlock() }

// WrongKey makes ID tokens signed with a key the provider does not publish (same key id).
func (p *OIDCProvider) WrongKey(on bool) { p.mu.Lock(); p.wrongKey = on; p.mu.Unlock() }

// serve picks the realm from the path, then hands over to the OpenID Provider; /login is the
// test-controlled sign-in.
func (p *OIDCProvider) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/login" {
		p.login(w, r)
		return
	}
	p.mu.Lock()
	realms := slices.Clone(p.realms)
	p.mu.Unlock()
	for _, realm := range realms {
		if r.URL.Path == realm || strings.HasPrefix(r.URL.Path, realm+"/") {
			r = r.WithContext(context.WithValue(r.Context(), realmKey{}, realm))
			if realm == EntraOrganizations {
				p.serveOrganizations(w, r)
				return
			}
			http.StripPrefix(realm, p.op).ServeHTTP(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

// serveOrganizations imitates Entra's multi-tenant authority on top of the OpenID Provider: the discovery
// document's issuer is the template ".../{tenantid}/v2.0", and the token endpoint issues ID tokens in the
// name of the signed-in user's tenant.
func (p *OIDCProvider) serveOrganizations(w http.ResponseWriter, r *http.Request) {
	h := http.StripPrefix(EntraOrganizations, p.op)
	switch {
	case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		doc["issuer"] = p.base + "/{tenantid}/v2.0"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token"):
		if err := r.ParseForm(); err == nil {
			p.mu.Lock()
			req := p.requests[p.codes[r.PostForm.Get("code")]]
			p.mu.Unlock()
			if req != nil && req.user != nil {
				if tid, ok := req.user.Extra["tid"].(string); ok {
					r = r.WithContext(context.WithValue(r.Context(), issuerKey{}, "/"+tid+"/v2.0"))
				}
			}
		}
	}
	h.ServeHTTP(w, r)
}

// login completes an authorization request as the user SignInAs chose, or with Deny's error.
func (p *OIDCProvider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	p.mu.Lock()
	req := p.requests[id]
	u, realm, deny := p.next, p.nextRlm, p.deny
	p.mu.Unlock()
	if req == nil {
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
		return
	}
	if deny != "" {
		q := url.Values{"error": {deny}, "error_description": {"<b>denied</b> by the test"}, "state": {req.req.State}}
		http.Redirect(w, r, req.req.RedirectURI+"?"+q.Encode(), http.StatusFound)
		return
	}
	if u == nil || realm != req.realm {
		http.Error(w, "the test chose nobody to sign in at "+req.realm, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	req.user, req.done, req.authTime = u, true, p.now()
	p.mu.Unlock()
	http.Redirect(w, r, p.base+req.realm+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---------------------------------------------------------------------------------------------------------
// What op needs: a client, an authorization request and the storage.

type oidcClient struct {
	id, secret, redirect string
	p                    *OIDCProvider
}

func (c *oidcClient) GetID() string                       { return c.id }
func (c *oidcClient) RedirectURIs() []string              { return []string{c.redirect} }
func (c *oidcClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *oidcClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *oidcClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *oidcClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *oidcClient) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *oidcClient) LoginURL(id string) string            { return c.p.base + "/login?id=" + url.QueryEscape(id) }
func (c *oidcClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *oidcClient) DevMode() bool                        { return true } // http redirect URIs on loopback
func (c *oidcClient) IsScopeAllowed(string) bool           { return false }
func (c *oidcClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *oidcClient) ClockSkew() time.Duration             { return 0 }
func (c *oidcClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *oidcClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *oidcClient) IDTokenLifetime() time.Duration {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.p.lifetime + c.p.now().Sub(time.Now())
}

type oidcAuthRequest struct {
	id       string
	realm    string
	req      *oidc.AuthRequest
	user     *OIDCUser
	done     bool
	authTime time.Time
}

func (a *oidcAuthRequest) GetID() string { return a.id }
func (a *oidcAuthRequest) GetACR() string {
	if a.user == nil {
		return ""
	}
	return a.user.ACR
}
func (a *oidcAuthRequest) GetAMR() []string {
	if a.user == nil {
		return nil
	}
	return a.user.AMR
}
func (a *oidcAuthRequest) GetAudience() []string              { return []string{a.req.ClientID} }
func (a *oidcAuthRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *oidcAuthRequest) GetClientID() string                { return a.req.ClientID }
func (a *oidcAuthRequest) GetNonce() string                   { return a.req.Nonce }
func (a *oidcAuthRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *oidcAuthRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *oidcAuthRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *oidcAuthRequest) GetScopes() []string                { return a.req.Scopes }
func (a *oidcAuthRequest) GetState() string                   { return a.req.State }
func (a *oidcAuthRequest) Done() bool                         { return a.done }
func (a *oidcAuthRequest) GetSubject() string {
	if a.user == nil {
		return ""
	}
	return a.user.Subject
}
func (a *oidcAuthRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}

type rsaKey struct {
	id  string
	key any
}

func (k rsaKey) ID() string                                  { return k.id }
func (k rsaKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rsaKey) Use() string                                 { return "sig" }
func (k rsaKey) Key() any                                    { return k.key }

type oidcStorage struct{ p *OIDCProvider }

var errNotFound = errors.New("not found")

func (s *oidcStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	realm, _ := ctx.Value(realmKey{}).(string)
	a := &oidcAuthRequest{id: randomID(), realm: realm, req: req}
	s.p.mu.Lock()
	s.p.requests[a.id] = a
	s.p.mu.Unlock()
	return a, nil
}

func (s *oidcStorage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if a := s.p.requests[id]; a != nil {
		return a, nil
	}
	return nil, errNotFound
}

func (s *oidcStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	id, ok := s.p.codes[code]
	s.p.mu.Unlock()
	if !ok {
		return nil, errNotFound
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *oidcStorage) SaveAuthCode(_ context.Context, id, code string) error {
	s.p.mu.Lock()
	s.p.codes[code] = id
	s.p.mu.Unlock()
	return nil
}

// DeleteAuthRequest runs when a code was redeemed: the code cannot be used twice.
func (s *oidcStorage) DeleteAuthRequest(_ context.Context, id string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	delete(s.p.requests, id)
	for c, r := range s.p.codes {
		if r == id {
			delete(s.p.codes, c)
		}
	}
	return nil
}

func (s *oidcStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return randomID(), time.Now().Add(5 * time.Minute), nil
}

func (s *oidcStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return randomID(), "", time.Now().Add(5 * time.Minute), nil
}

func (s *oidcStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}
func (s *oidcStorage) TerminateSession(context.Context, string, string) error { return nil }
func (s *oidcStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return nil
}
func (s *oidcStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// SigningKey signs with the published key, or (WrongKey) with another one under the same key id.
func (s *oidcStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.p.wrongKey {
		return rsaKey{id: "k1", key: s.p.otherKey}, nil
	}
	return rsaKey{id: "k1", key: s.p.key}, nil
}
func (s *oidcStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *oidcStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{rsaKey{id: "k1", key: &s.p.key.PublicKey}}, nil
}

func (s *oidcStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if c := s.p.clients[id]; c != nil {
		return c, nil
	}
	return nil, errNotFound
}

func (s *oidcStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if c := s.p.clients[id]; c != nil && c.secret == secret {
		return nil
	}
	return errors.New("wrong client secret")
}

// user finds the account an ID token is about.
func (s *oidcStorage) user(ctx context.Context, subject string) *OIDCUser {
	realm, _ := ctx.Value(realmKey{}).(string)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.p.users[realm+" "+subject]
}

func (s *oidcStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *oidcStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	return s.fill(ctx, ui, req.GetSubject())
}

func (s *oidcStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, _, subject, _ string) error {
	return s.fill(ctx, ui, subject)
}

func (s *oidcStorage) fill(ctx context.Context, ui *oidc.UserInfo, subject string) error {
	u := s.user(ctx, subject)
	if u == nil {
		return errNotFound
	}
	ui.Subject, ui.Email, ui.EmailVerified, ui.Name = u.Subject, u.Email, oidc.Bool(u.EmailVerified), u.Name
	for k, v := range u.Extra {
		ui.AppendClaims(k, v)
	}
	return nil
}

func (s *oidcStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return nil
}

func (s *oidcStorage) GetPrivateClaimsFromScopes(ctx context.Context, subject, _ string, _ []string) (map[string]any, error) {
	if u := s.user(ctx, subject); u != nil {
		return u.Extra, nil
	}
	return nil, nil
}

func (s *oidcStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}
func (s *oidcStorage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}
func (s *oidcStorage) Health(context.Context) error { return nil }
