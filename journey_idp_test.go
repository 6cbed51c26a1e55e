package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"portier/db"
	"portier/i18n"
	"portier/idp"
	"portier/testkit"
)

// The "Sign in with Microsoft" journeys of issue 15, in real Chromium against `portier serve` and a real
// OpenID Provider on loopback (testkit.OIDC), in German and English: invitation → "Continue with
// Microsoft" → the documentation, counted in Portier screens (the provider's own sign-in is not counted);
// signing out and in again with the provider; a refusal with its message.

const ijTenant = "7b5a0f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

// ijConnect stores the organisation's provider the way the administrators' form does.
func ijConnect(t *testing.T, p *portier, slug string) {
	t.Helper()
	ctx := context.Background()
	key, err := db.LoadOrCreateKey(filepath.Join(p.DataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	o, err := d.OrgBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	row := &db.IdP{OrgID: o.ID, Kind: idp.KindEntra, Name: "Microsoft", Tenant: ijTenant, ClientID: "portier-app", Domains: "kunde.example"}
	if err := d.SaveIdP(ctx, sealer, row, "app-secret", db.AuditEntry{Action: "idp.save"}); err != nil {
		t.Fatal(err)
	}
}

func TestJourneyInvitationWithMicrosoft(t *testing.T) {
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := bundle.For(lang, "")
			op := testkit.OIDC(t)
			realm := "/" + ijTenant + "/v2.0"
			op.EntraTenant(ijTenant)
			p := startPortier(t, map[string]string{"PORTIER_ENTRA_AUTHORITY": op.Base()})
			op.Client("portier-app", "app-secret", p.BaseURL+"/oidc/callback")
			email := "anna.beispiel@kunde.example"
			slug, link := flInviteByCLI(t, p, email, lang)
			ijConnect(t, p, slug)
			anna := &testkit.OIDCUser{Subject: "pw-1", Email: email, Name: "Anna Beispiel", AMR: []string{"pwd", "mfa"},
				Extra: map[string]any{"tid": ijTenant, "oid": "5f0c1a2b"}}
			op.SignInAs(realm, anna)

			// Screen 1: the invitation, "Continue with Microsoft" first, the terms on the same page.
			screens := 0
			b := testkit.Browser(t)
			if st := b.Navigate(link); st != 200 {
				t.Fatalf("invitation page: %d", st)
			}
			screens++
			if got := testkit.Eval[string](b, `document.documentElement.lang`); got != lang {
				t.Fatalf("page language %q, want %q", got, lang)
			}
			btn := `[data-testid="invite-idp"] [data-testid="idp-continue-entra"]`
			b.WaitVisible(btn)
			if got := strings.TrimSpace(b.Text(btn)); got != l.T("idp.continue", "provider", "Microsoft") {
				t.Errorf("button %q", got)
			}
			if got := b.Text(`[data-testid="invite-with-password"]`); got != l.T("idp.invite.password") {
				t.Errorf("password route %q", got)
			}
			b.Axe()
			b.Click("#terms")
			b.Click(btn)
			// The provider reports MFA: screen 2 is the documentation.
			b.WaitVisible(`[data-testid="org-home"]`)
			screens++
			if loc := b.Location(); !strings.HasSuffix(loc, "/o/"+slug) {
				t.Fatalf("landed on %s", loc)
			}
			if screens > 2 {
				t.Errorf("%d Portier screens from the invitation to the documentation, want ≤ 2", screens)
			}
			flNoCSPErrors(t, b)

			// Later: sign out, then in again with the provider from the sign-in page. Nobody is signed in any
			// more: the page follows the browser, so the person picks their language with the switch.
			b.Click(`[data-testid="logout"]`)
			b.WaitVisible(`[data-testid="login"]`)
			if testkit.Eval[string](b, `document.documentElement.lang`) != lang {
				b.Click(`[data-testid="lang-` + lang + `"]`)
				b.WaitVisible(`html[lang="` + lang + `"]`)
			}
			sel := `[data-testid="login"] [data-testid="idp-continue-entra"]`
			b.WaitVisible(sel)
			if got := strings.TrimSpace(b.Text(sel)); got != l.T("idp.continue", "provider", "Microsoft") {
				t.Errorf("sign-in button %q", got)
			}
			b.Axe()
			b.Click(sel)
			b.WaitVisible(`[data-testid="org-home"]`)
			if loc := b.Location(); !strings.HasSuffix(loc, "/o/"+slug) {
				t.Fatalf("signed in again on %s", loc)
			}

			// The refusals, each with its message in the page's language and the support contact.
			b.Click(`[data-testid="logout"]`)
			b.WaitVisible(sel)
			other := map[string]any{"tid": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "oid": "e71"}
			for _, tc := range []struct {
				name  string
				setup func()
				key   string
				visit string // instead of the button: this address
			}{
				{"another tenant, same address", func() {
					op.SignInAs(realm, &testkit.OIDCUser{Subject: "pw-2", Email: email, AMR: []string{"mfa"}, Extra: other})
				}, "idp.error.token", ""},
				{"address of a domain not vouched for", func() {
					op.SignInAs(realm, &testkit.OIDCUser{Subject: "pw-3", Email: "anna@fremd.example", AMR: []string{"mfa"},
						Extra: map[string]any{"tid": ijTenant, "oid": "f3"}})
				}, "idp.refused.unvouched", ""},
				{"expired token", func() { op.SignInAs(realm, anna); op.ExpiredTokens(true) }, "idp.error.token", ""},
				{"wrongly signed token", func() { op.ExpiredTokens(false); op.WrongKey(true) }, "idp.error.token", ""},
				{"cancelled at the provider", func() { op.WrongKey(false); op.Deny("access_denied") }, "idp.error.denied", ""},
				{"forged or replayed answer", func() {}, "idp.error.state", "/oidc/callback?state=replayed&code=x"},
			} {
				b.Navigate(p.BaseURL + "/login")
				b.WaitVisible(sel)
				tc.setup()
				if tc.visit != "" {
					b.Navigate(p.BaseURL + tc.visit)
				} else {
					b.Click(sel)
				}
				b.WaitVisible(`[data-testid="idp-problem"]`)
				if got := b.Text(`[data-testid="idp-problem"] h1`); got != l.T("idp.problem.title") {
					t.Errorf("%s: title %q", tc.name, got)
				}
				provider := "Microsoft"
				if tc.key == "idp.error.state" {
					provider = l.T("idp.provider_generic")
				}
				if got := b.Text(`[data-testid="idp-problem"] p`); got != l.T(tc.key, "provider", provider) {
					t.Errorf("%s: text %q, want %q", tc.name, got, l.T(tc.key, "provider", provider))
				}
				b.WaitVisible(`[data-testid="support-contact"]`)
			}
			b.Axe()
			flNoCSPErrors(t, b)
		})
	}
}

// An administrator connects the organisation's Microsoft tenant on the staff pages and runs "test
// connection": the provider's claims are shown, without tokens, and the form's way to the provider is not
// blocked by the page's policy.
func TestJourneyStaffConnectsMicrosoft(t *testing.T) {
	op := testkit.OIDC(t)
	realm := "/" + ijTenant + "/v2.0"
	op.EntraTenant(ijTenant)
	p := startPortier(t, map[string]string{"PORTIER_ENTRA_AUTHORITY": op.Base()})
	op.Client("portier-app", "app-secret", p.BaseURL+"/oidc/callback")
	if out, err := p.cmd(t, "org", "create", "--name", "Kunde GmbH", "--slug", "kunde"); err != nil {
		t.Fatalf("org create: %v %s", err, out)
	}
	admin := seedPerson(t, p, "ada@msp.example", "Ada Admin", "admin", 0, "", 7)
	b := testkit.Browser(t)
	signInWithApp(t, b, p.BaseURL, admin)
	b.Navigate(p.BaseURL + "/staff")
	b.Click(`[data-testid="org-idp-kunde"]`)
	b.WaitVisible(`[data-testid="idp-form"]`)
	if got := b.Text(`[data-testid="idp-redirect-uri"]`); got != p.BaseURL+"/oidc/callback" {
		t.Errorf("redirect URI shown %q", got)
	}
	b.Axe()
	b.Click(`[data-testid="idp-kind-entra"]`)
	b.SetValue("#idp-tenant", ijTenant)
	b.SetValue("#idp-client-id", "portier-app")
	b.SetValue("#idp-client-secret", "app-secret")
	b.SetValue("#idp-domains", "kunde.example")
	b.Click(`[data-testid="idp-save"]`)
	b.WaitVisible(`[data-testid="idp-test"]`)
	if v := b.Value("#idp-client-secret"); v != "" {
		t.Errorf("secret shown again: %q", v)
	}

	op.SignInAs(realm, &testkit.OIDCUser{Subject: "pw-9", Email: "it@kunde.example", Name: "<b>IT</b> Kunde", AMR: []string{"pwd"},
		Extra: map[string]any{"tid": ijTenant, "oid": "a9"}})
	b.Click(`[data-testid="idp-test"]`)
	b.WaitVisible(`[data-testid="idp-test-result"]`)
	if got := b.Text(`[data-testid="idp-test-subject"]`); got != "entra "+ijTenant+" a9" {
		t.Errorf("subject %q", got)
	}
	claims := testkit.Eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="idp-test-claims"] tr')).map(r => r.dataset.claim)`)
	for _, want := range []string{"tid", "oid", "email", "amr", "iss", "aud"} {
		if !containsStr(claims, want) {
			t.Errorf("claim %s not shown (%v)", want, claims)
		}
	}
	for _, bad := range []string{"at_hash", "c_hash", "nonce"} {
		if containsStr(claims, bad) {
			t.Errorf("claim %s shown", bad)
		}
	}
	if n := testkit.Eval[int](b, `document.querySelectorAll('[data-testid="idp-test-result"] b').length`); n != 0 {
		t.Error("the provider's name claim was rendered as markup")
	}
	b.Axe()
	flNoCSPErrors(t, b)
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
