package idp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"portier/testkit"
)

// codeFor runs the browser's part of a round trip against the test provider and returns the code.
func codeFor(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc := authURL
	for i := 0; i < 5; i++ {
		resp, err := client.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, err := resp.Location()
		if err != nil {
			t.Fatalf("no redirect from %s: %d", loc, resp.StatusCode)
		}
		if u.Host == "portier.example" {
			return u.Query().Get("code"), u.Query().Get("state")
		}
		loc = u.String()
	}
	t.Fatal("no answer for Portier")
	return "", ""
}

// The ID token's nonce and the PKCE verifier must be the ones of this round trip.
func TestExchangeChecksNonceAndPKCE(t *testing.T) {
	p := testkit.OIDC(t)
	iss := p.Issuer("/corp")
	redirect := "https://portier.example/oidc/callback"
	p.Client("app", "secret", redirect)
	s := Settings{Kind: KindOIDC, Name: "Corp", Issuer: iss, ClientID: "app", ClientSecret: "secret", Domains: []Domain{{Name: "corp.example"}}}
	cl, err := New(context.Background(), DefaultEndpoints, s, redirect, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	user := &testkit.OIDCUser{Subject: "u1", Email: "a@corp.example", EmailVerified: true, AMR: []string{"mfa"}}

	for _, tc := range []struct {
		name  string
		alter func(*Flow)
		want  error
	}{
		{"right", func(*Flow) {}, nil},
		{"other nonce", func(f *Flow) { f.Nonce = "another-nonce" }, ErrToken},
		{"other verifier", func(f *Flow) { f.Verifier = NewFlow().Verifier }, ErrExchange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.SignInAs("/corp", user)
			f := NewFlow()
			u, _ := url.Parse(cl.AuthURL(f, ""))
			if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") != f.Nonce || q.Get("state") != f.State {
				t.Fatalf("authorization request without PKCE, nonce or state: %s", u)
			}
			code, state := codeFor(t, u.String())
			if state != f.State {
				t.Fatalf("state %q came back as %q", f.State, state)
			}
			tc.alter(&f)
			id, err := cl.Exchange(context.Background(), f, code)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want == nil && (id.Key != iss+" u1" || !id.Vouched || !id.ProviderMFA) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func TestVouchAndSubject(t *testing.T) {
	const tA, tB = "7b5a0f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
	entra := Settings{Kind: KindEntra, Tenant: tA, Domains: []Domain{{Name: "kunde.de"}}}
	multi := Settings{Kind: KindEntra, Tenant: EntraOrganizations, Domains: []Domain{{Name: "kunde.de", Tenant: tA}}}
	google := Settings{Kind: KindGoogle, Tenant: "garten.de", Domains: []Domain{{Name: "garten.de"}}}
	for _, tc := range []struct {
		name string
		s    Settings
		id   Identity
		ok   bool
		key  string
	}{
		{"entra, listed domain, its tenant", entra, Identity{TenantID: tA, Email: "a@kunde.de"}, true, ""},
		{"entra, other domain", entra, Identity{TenantID: tA, Email: "a@andere.de"}, false, "idp.refused.unvouched"},
		{"entra multi, domain of another tenant", multi, Identity{TenantID: tB, Email: "a@kunde.de"}, false, "idp.refused.unvouched"},
		{"entra multi, domain of its tenant", multi, Identity{TenantID: tA, Email: "a@kunde.de"}, true, ""},
		{"no address", entra, Identity{TenantID: tA}, false, "idp.refused.no_email"},
		{"google verified, hd", google, Identity{Email: "g@garten.de", Verified: true, HostedDom: "garten.de"}, true, ""},
		{"google unverified", google, Identity{Email: "g@garten.de", HostedDom: "garten.de"}, false, "idp.refused.unverified"},
		{"google without hd (a private account)", google, Identity{Email: "g@garten.de", Verified: true}, false, "idp.refused.unvouched"},
	} {
		ok, key := tc.s.Vouch(&tc.id)
		if ok != tc.ok || key != tc.key {
			t.Errorf("%s: %v %q, want %v %q", tc.name, ok, key, tc.ok, tc.key)
		}
	}
	id := &Identity{Issuer: "https://x", Subject: "s", TenantID: tA, ObjectID: "o"}
	if k := entra.SubjectKey(id); k != "entra "+tA+" o" {
		t.Errorf("entra key %q", k)
	}
	if k := google.SubjectKey(id); k != "https://x s" {
		t.Errorf("google key %q", k)
	}
	s := Settings{MFAACR: []string{"urn:strong"}}
	for _, tc := range []struct {
		id   Identity
		want bool
	}{{Identity{AMR: []string{"pwd", "mfa"}}, true}, {Identity{AMR: []string{"pwd"}}, false}, {Identity{ACR: "urn:strong"}, true}, {Identity{ACR: "urn:weak"}, false}} {
		if got := s.AcceptsProviderMFA(&tc.id); got != tc.want {
			t.Errorf("%+v: %v", tc.id, got)
		}
	}
	s.RequirePortierMFA = true
	if s.AcceptsProviderMFA(&Identity{AMR: []string{"mfa"}}) {
		t.Error("provider MFA accepted although the organisation requires Portier's")
	}
}

func TestParseDomainsAndValidate(t *testing.T) {
	if _, key := ParseDomains(KindEntra, EntraOrganizations, "kunde.de"); key != "idp.form.domains.tenant_needed" {
		t.Errorf("organizations without tenant: %q", key)
	}
	if ds, key := ParseDomains(KindGoogle, "garten.de", ""); key != "" || len(ds) != 1 || ds[0].Name != "garten.de" {
		t.Errorf("google default domain: %v %q", ds, key)
	}
	if _, key := ParseDomains(KindOIDC, "", "not a domain"); key != "idp.form.domains.invalid" {
		t.Errorf("bad domain: %q", key)
	}
	for _, tenant := range []string{"common", "consumers", ""} {
		s := Settings{Kind: KindEntra, Name: "Microsoft", Tenant: tenant, ClientID: "x", ClientSecret: "y", Domains: []Domain{{Name: "a.de"}}}
		if bad := s.Validate(true); bad["tenant"] == "" {
			t.Errorf("tenant %q accepted", tenant)
		}
	}
	s := Settings{Kind: KindOIDC, Name: "X", Issuer: "http://evil.example", ClientID: "x", ClientSecret: "y", Domains: []Domain{{Name: "a.de"}}}
	if bad := s.Validate(true); bad["issuer"] == "" {
		t.Error("plain-http issuer off loopback accepted")
	}
}

// The address is lower-cased as Portier stores addresses; a letter that only lower-casing turns into
// ASCII (the Kelvin sign) makes it another person's address, and nothing is vouched for.
func TestVouchRefusesAddressesThatFoldIntoOthers(t *testing.T) {
	s := Settings{Kind: KindOIDC, Domains: []Domain{{Name: "kunde.de"}}}
	for raw, want := range map[string]bool{
		"Karl@Kunde.DE": true, "jürgen@kunde.de": true, "\u212Aarl@kunde.de": false, "karl@\u212Aunde.de": false,
		"karl@sub.kunde.de": false, "karl@kunde.de.": false, "karl@kunde.de.evil.example": false,
		"karl@evil.example@kunde.de":     true, // one mailbox at kunde.de (quoted local part); no invitation names it
		"\"karl@kunde.de\"@evil.example": false, "karl@ｋunde.de": false,
	} {
		id := identityOf(map[string]any{"sub": "s", "email": raw, "email_verified": true})
		if ok, _ := s.Vouch(id); ok != want {
			t.Errorf("%q (%q): vouched %v, want %v", raw, id.Email, ok, want)
		}
	}
	id := identityOf(map[string]any{"sub": "s", "preferred_username": "\u212Aarl@kunde.de"})
	if ok, _ := (&Settings{Kind: KindEntra, Tenant: "t", Domains: []Domain{{Name: "kunde.de"}}}).Vouch(id); ok {
		t.Error("preferred_username folded into another address was vouched for")
	}
}
