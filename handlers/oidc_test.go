package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/idp"
	"portier/testkit"
)

// Sign-in through an organisation's provider, against a real OpenID Provider on loopback
// (testkit.OIDC, zitadel's op package): the test decides who signs in there and with which claims.

const (
	tenantA = "7b5a0f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b" // the customer's Entra tenant
	tenantB = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a" // someone else's
)

type idpEnv struct {
	*testEnv
	op  *testkit.OIDCProvider
	org *db.Org
}

// newIdPEnv is a portal whose organisation "Kunde" signs in with Microsoft Entra ID (tenant A, domain
// kunde.example). Google's issuer is the provider's /google realm.
func newIdPEnv(t *testing.T) *idpEnv {
	t.Helper()
	p := testkit.OIDC(t)
	p.EntraTenant(tenantA)
	p.EntraTenant(tenantB)
	google := p.Issuer("/google")
	e := newTestEnv(t, func(c *testConfig) {
		c.IdPEndpoints = idp.Endpoints{EntraAuthority: p.Base(), GoogleIssuer: google}
	})
	p.Client("portier-app", "s3cret-value", e.URL("/oidc/callback"))
	p.SetClock(e.clock.Now) // its tokens expire when the portal's clock says
	ie := &idpEnv{testEnv: e, op: p, org: e.createOrg("Kunde GmbH", "kunde")}
	ie.saveIdP(ie.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantA, Domains: "kunde.example"})
	return ie
}

func (e *idpEnv) saveIdP(orgID int64, p *db.IdP) {
	e.t.Helper()
	p.OrgID = orgID
	if p.ClientID == "" {
		p.ClientID = "portier-app"
	}
	if err := e.db.SaveIdP(context.Background(), e.srv.cfg.Sealer, p, "s3cret-value", db.AuditEntry{Action: "idp.save"}); err != nil {
		e.t.Fatal(err)
	}
}

// entraUser is an account of an Entra tenant.
func entraUser(tid, oid, email string, mfa bool) *testkit.OIDCUser {
	u := &testkit.OIDCUser{Subject: "pairwise-" + oid, Email: email, Name: "Anna Beispiel", AMR: []string{"pwd"},
		Extra: map[string]any{"tid": tid, "oid": oid}}
	if mfa {
		u.AMR = append(u.AMR, "mfa")
	}
	return u
}

// roundTrip follows a redirect to the provider through its (skipped) sign-in and back to Portier, and
// returns Portier's answer to the callback together with the callback's path and query.
func (e *idpEnv) roundTrip(resp *http.Response, body string) (*http.Response, string, string) {
	e.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("start: status %d\n%.800s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	for i := 0; i < 10; i++ {
		if strings.HasPrefix(loc, e.ts.URL) {
			cb := strings.TrimPrefix(loc, e.ts.URL)
			r, b := e.get(cb, nil)
			return r, b, cb
		}
		if !strings.HasPrefix(loc, e.op.Base()) {
			e.t.Fatalf("redirect to %s: neither the provider nor Portier", loc)
		}
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		r, err := e.client.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		r.Body.Close()
		next, err := r.Location()
		if err != nil {
			e.t.Fatalf("provider answered %d without a redirect at %s", r.StatusCode, loc)
		}
		loc = next.String()
	}
	e.t.Fatal("too many redirects")
	return nil, "", ""
}

// acceptByProvider opens the invitation, ticks the terms and continues with the provider as u.
func (e *idpEnv) acceptByProvider(link string, realm string, u *testkit.OIDCUser) (*http.Response, string, string) {
	e.t.Helper()
	e.op.SignInAs(realm, u)
	resp, body := e.post(link+"/idp", url.Values{"terms": {"1"}}, nil)
	return e.roundTrip(resp, body)
}

// signInByProvider uses the sign-in page's "Continue with <name>" in a fresh browser.
func (e *idpEnv) signInByProvider(name, email, realm string, u *testkit.OIDCUser) (*http.Response, string, string) {
	e.t.Helper()
	e.newClient()
	e.op.SignInAs(realm, u)
	resp, body := e.post("/login/idp", url.Values{"idp": {name}, "email": {email}}, nil)
	return e.roundTrip(resp, body)
}

func wantRefusal(t *testing.T, resp *http.Response, body, refusal string, status int) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("X-Portier-Refusal") != refusal {
		t.Fatalf("status %d refusal %q, want %d %q\n%.1500s", resp.StatusCode, resp.Header.Get("X-Portier-Refusal"), status, refusal, body)
	}
	d := doc(t, body)
	if d.Find(`[data-testid="idp-problem"]`).Length() != 1 || d.Find(`[data-testid="support-contact"]`).Length() != 1 {
		t.Fatalf("refusal page without its message or the support contact:\n%.1500s", body)
	}
}

var realmA = "/" + tenantA + "/v2.0"

// Invitation → "Continue with Microsoft" → the provider reports MFA → straight to the documentation. The
// account is linked by tenant and object id; the audit names provider and subject; the terms ticked on the
// invitation page are recorded.
func TestIdPInvitationWithProviderMFA(t *testing.T) {
	e := newIdPEnv(t)
	link := e.invite("anna@kunde.example", "Anna Beispiel", e.org.ID, "viewer", "en")

	resp, body := e.get(link, nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid="invite-idp"] [data-testid="idp-continue-entra"]`).Length() != 1 {
		t.Fatalf("invitation page without \"Continue with Microsoft\": %d\n%.1500s", resp.StatusCode, body)
	}
	if d.Find(`[data-testid="invite-with-password"]`).Length() != 1 {
		t.Fatal("the password route is gone")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+e.op.Base()) {
		t.Errorf("form-action does not let the form reach the provider: %s", csp)
	}
	// The password route still works from there.
	if resp, body := e.get(link+"?with=password", nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="setpw-invite"`) {
		t.Fatalf("password form: %d", resp.StatusCode)
	}

	resp, body, _ = e.acceptByProvider(link, realmA, entraUser(tenantA, "0b1c", "anna@kunde.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("after the provider: %d %s\n%.1500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != 200 {
		t.Fatalf("documentation: %d", resp.StatusCode)
	}

	ctx := context.Background()
	link2, err := e.db.IdentityBySubject(ctx, "entra "+tenantA+" 0b1c")
	if err != nil {
		t.Fatalf("not linked by tenant and object id: %v", err)
	}
	u, _ := e.db.UserByID(ctx, link2.UserID)
	if u.Email != "anna@kunde.example" || u.TermsVersion == 0 || !u.EmailConfirmed || u.PasswordHash != "" {
		t.Errorf("account after the provider sign-in: %+v", u)
	}
	entries, err := e.db.AuditList(ctx, db.AuditFilter{Action: "login.idp"})
	if err != nil || len(entries) != 1 || entries[0].Target != "Microsoft: entra "+tenantA+" 0b1c" || entries[0].ActorID != u.ID {
		t.Errorf("audit of the sign-in: %+v %v", entries, err)
	}
}

// Without MFA at the provider Portier asks for its own second factor, as after a password; so it does when
// the organisation requires Portier's factor whatever the provider says.
func TestIdPSecondFactorFromPortierUnlessProviderMFA(t *testing.T) {
	e := newIdPEnv(t)
	link := e.invite("ben@kunde.example", "Ben", e.org.ID, "viewer", "en")
	resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "b3", "ben@kunde.example", false))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("without amr mfa: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("documentation before the second factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantA, Domains: "kunde.example", RequirePortierMFA: true})
	link = e.invite("carla@kunde.example", "Carla", e.org.ID, "viewer", "en")
	e.newClient()
	resp, body, _ = e.acceptByProvider(link, realmA, entraUser(tenantA, "c4", "carla@kunde.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("organisation requires Portier's factor: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	// acr configured as a second factor counts.
	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantA, Domains: "kunde.example", MFAACR: "urn:strong"})
	link = e.invite("dora@kunde.example", "Dora", e.org.ID, "viewer", "en")
	e.newClient()
	u := entraUser(tenantA, "d5", "dora@kunde.example", false)
	u.ACR = "urn:strong"
	resp, body, _ = e.acceptByProvider(link, realmA, u)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("acr as configured: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// Later sign-ins go by the subject: a changed address at the provider does not lock the person out.
// Disabling in Portier ends the sessions and keeps the provider from signing the person in.
func TestIdPSignInLaterBySubject(t *testing.T) {
	e := newIdPEnv(t)
	link := e.invite("anna@kunde.example", "Anna", e.org.ID, "viewer", "de")
	if resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "a1", "anna@kunde.example", true)); resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("invitation: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	first := e.client.Jar

	// The sign-in page offers the provider.
	e.newClient()
	_, body := e.get("/login", nil)
	if !strings.Contains(body, `data-testid="idp-continue-entra"`) || !strings.Contains(body, "Weiter mit Microsoft") && !strings.Contains(body, "Continue with Microsoft") {
		t.Fatalf("sign-in page without the provider:\n%.1500s", body)
	}
	renamed := entraUser(tenantA, "a1", "anna.neu@kunde.example", true)
	resp, body, _ := e.signInByProvider("Microsoft", "", realmA, renamed)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("sign-in with a changed address: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	ctx := context.Background()
	l, _ := e.db.IdentityBySubject(ctx, "entra "+tenantA+" a1")
	if err := e.db.SetDisabled(ctx, l.UserID, true); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("session after disabling: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.client.Jar = first
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first session after disabling: %d", resp.StatusCode)
	}
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, renamed)
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
}

// The refusals, each with its own message and the support contact.
func TestIdPRefusals(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")
	e.saveIdP(other.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantB, Domains: "andere.example"})
	realmB := "/" + tenantB + "/v2.0"
	link := e.invite("anna@kunde.example", "Anna", e.org.ID, "viewer", "en")

	t.Run("another tenant, same address", func(t *testing.T) {
		// Tenant B's account claims Anna's address; it signs in through the provider of the organisation
		// that uses tenant B. Tenant B does not vouch for kunde.example: no invitation is found.
		resp, body, _ := e.signInByProvider("Microsoft", "anna@andere.example", realmB, entraUser(tenantB, "evil", "anna@kunde.example", true))
		wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)
		// A token of tenant B from tenant A's sign-in address is not tenant A's.
		e.newClient()
		resp, body, _ = e.acceptByProvider(link, realmA, entraUser(tenantB, "evil", "anna@kunde.example", true))
		wantRefusal(t, resp, body, "error.token", http.StatusBadRequest)
	})
	t.Run("invitation for another address", func(t *testing.T) {
		e.newClient()
		resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "bob", "bob@kunde.example", true))
		wantRefusal(t, resp, body, "refused.other_address", http.StatusForbidden)
	})
	t.Run("domain not vouched for", func(t *testing.T) {
		e.newClient()
		resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "x", "anna@gmail.example", true))
		wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)
	})
	t.Run("expired token", func(t *testing.T) {
		e.op.ExpiredTokens(true)
		defer e.op.ExpiredTokens(false)
		e.newClient()
		resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "a1", "anna@kunde.example", true))
		wantRefusal(t, resp, body, "error.token", http.StatusBadRequest)
	})
	t.Run("wrongly signed token", func(t *testing.T) {
		e.op.WrongKey(true)
		defer e.op.WrongKey(false)
		e.newClient()
		resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "a1", "anna@kunde.example", true))
		wantRefusal(t, resp, body, "error.token", http.StatusBadRequest)
	})
	t.Run("provider error, its text not shown", func(t *testing.T) {
		e.newClient()
		e.op.Deny("access_denied")
		resp, body := e.post(link+"/idp", url.Values{"terms": {"1"}}, nil)
		resp, body, _ = e.roundTrip(resp, body)
		wantRefusal(t, resp, body, "error.denied", http.StatusBadRequest)
		if strings.Contains(body, "denied by the test") || strings.Contains(body, "<b>") {
			t.Errorf("the provider's text reached the page:\n%s", body)
		}
	})
	t.Run("terms not accepted", func(t *testing.T) {
		e.newClient()
		resp, body := e.post(link+"/idp", url.Values{}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="terms-error"`) {
			t.Fatalf("without the terms: %d\n%.800s", resp.StatusCode, body)
		}
	})
	t.Run("replayed state", func(t *testing.T) {
		e.newClient()
		resp, body, cb := e.acceptByProvider(link, realmA, entraUser(tenantA, "a1", "anna@kunde.example", true))
		if resp.Header.Get("Location") != "/o/kunde" {
			t.Fatalf("sign-in: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		resp, body = e.get(cb, nil)
		wantRefusal(t, resp, body, "error.state", http.StatusBadRequest)
		// The same answer in another browser.
		e.newClient()
		resp, body = e.get(cb, nil)
		wantRefusal(t, resp, body, "error.state", http.StatusBadRequest)
	})
	t.Run("used invitation", func(t *testing.T) {
		e.newClient()
		resp, _ := e.post(link+"/idp", url.Values{"terms": {"1"}}, nil)
		if resp.StatusCode != http.StatusGone {
			t.Fatalf("used invitation: %d", resp.StatusCode)
		}
	})
	t.Run("subject of someone else", func(t *testing.T) {
		link2 := e.invite("carl@kunde.example", "Carl", e.org.ID, "viewer", "en")
		e.newClient()
		resp, body, _ := e.acceptByProvider(link2, realmA, entraUser(tenantA, "a1", "anna@kunde.example", true))
		wantRefusal(t, resp, body, "refused.taken", http.StatusForbidden)
	})
	t.Run("not invited", func(t *testing.T) {
		resp, body, _ := e.signInByProvider("Microsoft", "zoe@kunde.example", realmA, entraUser(tenantA, "zoe", "zoe@kunde.example", true))
		wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
	})
}

// Google Workspace: the address counts only when email_verified and the hosted domain is the configured one.
func TestIdPGoogleVouching(t *testing.T) {
	e := newIdPEnv(t)
	g := e.createOrg("Gartenbau", "garten")
	e.saveIdP(g.ID, &db.IdP{Kind: idp.KindGoogle, Name: "Google", Tenant: "garten.example", Domains: "garten.example"})
	link := e.invite("gerd@garten.example", "Gerd", g.ID, "viewer", "en")
	user := func(verified bool, hd string) *testkit.OIDCUser {
		return &testkit.OIDCUser{Subject: "1077", Email: "gerd@garten.example", EmailVerified: verified, Extra: map[string]any{"hd": hd}}
	}
	resp, body, _ := e.acceptByProvider(link, "/google", user(false, "garten.example"))
	wantRefusal(t, resp, body, "refused.unverified", http.StatusForbidden)
	e.newClient()
	resp, body, _ = e.acceptByProvider(link, "/google", user(true, "other.example"))
	wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)
	e.newClient()
	resp, body, _ = e.acceptByProvider(link, "/google", user(true, "garten.example"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("verified, right domain, no amr: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, err := e.db.IdentityBySubject(context.Background(), e.op.Issuer("/google")+" 1077"); err != nil {
		t.Fatalf("not linked by issuer and subject: %v", err)
	}
}

// Several organisations with providers of one name: the sign-in page asks for the address and picks by
// its domain; an unlinked person with a live invitation is found by the address the provider vouches for.
func TestIdPPickByDomain(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")
	e.saveIdP(other.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantB, Domains: "andere.example"})
	e.invite("olga@andere.example", "Olga", other.ID, "viewer", "en")

	resp, body := e.post("/login/idp", url.Values{"idp": {"Microsoft"}}, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="idp-pick"`) {
		t.Fatalf("two providers, no address: %d\n%.800s", resp.StatusCode, body)
	}
	resp, body = e.post("/login/idp", url.Values{"idp": {"Microsoft"}, "email": {"olga@nowhere.example"}}, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="email-error"`) {
		t.Fatalf("unknown domain: %d\n%.800s", resp.StatusCode, body)
	}
	resp, body, _ = e.signInByProvider("Microsoft", "olga@andere.example", "/"+tenantB+"/v2.0", entraUser(tenantB, "o1", "olga@andere.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/terms" {
		t.Fatalf("invited person through the sign-in page: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// Administrators configure the provider: the secret is sealed to its row and never shown again; "test
// connection" shows the claims without tokens; unlinking ends the person's sessions.
func TestIdPStaffConfigureTestUnlink(t *testing.T) {
	e := newIdPEnv(t)
	o := e.createOrg("Neu KG", "neu")
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	e.login("admin@muster-it.example", testPassword)

	form := url.Values{"kind": {"entra"}, "tenant": {tenantA}, "client_id": {"portier-app"}, "client_secret": {"s3cret-value"},
		"domains": {"neu.example"}}
	bad := url.Values{"kind": {"entra"}, "tenant": {"common"}, "client_id": {""}, "domains": {"not a domain"}}
	resp, body := e.post("/staff/orgs/neu/idp", bad, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `idp-tenant-error`) || !strings.Contains(body, `idp-domains-error`) {
		t.Fatalf("invalid form: %d\n%.1500s", resp.StatusCode, body)
	}
	if resp, body := e.post("/staff/orgs/neu/idp", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.1500s", resp.StatusCode, body)
	}
	var raw []byte
	if err := e.db.R.QueryRow(`SELECT client_secret FROM idps WHERE org_id = ?`, o.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cret-value") {
		t.Fatal("client secret stored in plain text")
	}
	// Moved to another row, the sealed secret does not open.
	if _, err := e.srv.cfg.Sealer.Open("idps", "client_secret", 1, raw); err == nil {
		t.Fatal("sealed secret opens for another row")
	}
	resp, body = e.get("/staff/orgs/neu/idp", nil)
	if resp.StatusCode != 200 || strings.Contains(body, "s3cret-value") || !strings.Contains(body, e.URL("/oidc/callback")) {
		t.Fatalf("form page: %d (secret shown or redirect URI missing)\n%.1500s", resp.StatusCode, body)
	}
	// Saving again without a secret keeps it.
	form.Del("client_secret")
	if resp, _ := e.post("/staff/orgs/neu/idp", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save without secret: %d", resp.StatusCode)
	}

	e.op.SignInAs(realmA, entraUser(tenantA, "adm", "ada@neu.example", true))
	resp, body = e.post("/staff/orgs/neu/idp/test", nil, nil)
	resp, body, _ = e.roundTrip(resp, body)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid="idp-test-claims"] tr[data-claim="oid"]`).Length() != 1 {
		t.Fatalf("test result: %d\n%.2000s", resp.StatusCode, body)
	}
	for _, c := range []string{"at_hash", "c_hash", "nonce", "id_token", "access_token"} {
		if d.Find(`tr[data-claim="`+c+`"]`).Length() != 0 {
			t.Errorf("test result shows %s", c)
		}
	}
	if got := strings.TrimSpace(d.Find(`[data-testid="idp-test-subject"]`).Text()); got != "entra "+tenantA+" adm" {
		t.Errorf("subject shown %q", got)
	}
	if n, _ := e.db.IdentityBySubject(context.Background(), "entra "+tenantA+" adm"); n != nil {
		t.Error("the test linked an account")
	}

	// A customer signs in through the provider; staff unlink; the customer's session ends.
	staffJar := e.client.Jar
	e.newClient()
	link := e.invite("nora@neu.example", "Nora", o.ID, "viewer", "en")
	if resp, body, _ := e.acceptByProvider(link, realmA, entraUser(tenantA, "n1", "nora@neu.example", true)); resp.Header.Get("Location") != "/o/neu" {
		t.Fatalf("customer: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	customerJar := e.client.Jar
	e.client.Jar = staffJar
	p, _ := e.db.IdPByOrg(context.Background(), o.ID)
	ids, _ := e.db.Identities(context.Background(), p.ID)
	if len(ids) != 1 {
		t.Fatalf("linked: %+v", ids)
	}
	_, body = e.get("/staff/orgs/neu/idp", nil)
	if !strings.Contains(body, "entra "+tenantA+" n1") {
		t.Errorf("linked account not listed:\n%.1500s", body)
	}
	if resp, _ := e.post("/staff/orgs/neu/idp/identities/"+itoa64(ids[0].ID)+"/unlink", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlink: %d", resp.StatusCode)
	}
	e.client.Jar = customerJar
	if resp, _ := e.get("/o/neu", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("customer session after unlinking: %d", resp.StatusCode)
	}
	entries, _ := e.db.AuditList(context.Background(), db.AuditFilter{Action: "idp.unlink"})
	if len(entries) != 1 || !strings.Contains(entries[0].Target, "entra "+tenantA+" n1") {
		t.Errorf("unlink audit: %+v", entries)
	}
}

// The provider's answer is used once, also when the browser sends it several times at once: exactly one
// request signs in (the code is redeemed once at the provider, the invitation used once in the database).
func TestParallelIdPCallback(t *testing.T) {
	e := newIdPEnv(t)
	link := e.invite("anna@kunde.example", "Anna", e.org.ID, "viewer", "en")
	e.op.SignInAs(realmA, entraUser(tenantA, "p1", "anna@kunde.example", true))
	resp, _ := e.post(link+"/idp", url.Values{"terms": {"1"}}, nil)
	loc := resp.Header.Get("Location")
	for !strings.HasPrefix(loc, e.ts.URL) {
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		r, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		u, _ := r.Location()
		loc = u.String()
	}
	cb := strings.TrimPrefix(loc, e.ts.URL)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, e.URL(cb), nil)
			r, err := e.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/o/kunde" {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of %d parallel uses of one answer signed in, want 1", ok, n)
	}
	var accepted int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'invite.accept'`).Scan(&accepted)
	if accepted != 1 {
		t.Errorf("invitation accepted %d times", accepted)
	}
}

// Someone who already signs in with a password links their provider account from the security page (the
// password entered in the last 10 minutes, the provider vouching for their own address); from then on
// "Continue with Microsoft" signs them in, and the provider's MFA stands in for their Portier factor.
func TestIdPLinkFromSecurityPage(t *testing.T) {
	e := newIdPEnv(t)
	u := e.createUser("paula@kunde.example", "Paula", "", map[int64]string{e.org.ID: "manager"})
	e.login(u.Email, testPassword)
	_, body := e.get("/security", nil)
	d := doc(t, body)
	if d.Find(`[data-testid="security-idp"] [data-testid="idp-link-start"]`).Length() != 1 {
		t.Fatalf("security page without the link button:\n%.2000s", body)
	}
	p, _ := e.db.IdPByOrg(context.Background(), e.org.ID)
	start := "/security/idp/" + itoa64(p.ID) + "/link"

	// Someone else's provider account (another address) is not linked.
	e.op.SignInAs(realmA, entraUser(tenantA, "q9", "quentin@kunde.example", true))
	resp, body := e.post(start, nil, nil)
	resp, body, _ = e.roundTrip(resp, body)
	wantRefusal(t, resp, body, "refused.link_address", http.StatusForbidden)

	e.op.SignInAs(realmA, entraUser(tenantA, "p7", "paula@kunde.example", true))
	resp, body = e.post(start, nil, nil)
	resp, body, _ = e.roundTrip(resp, body)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/security" {
		t.Fatalf("link: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, body := e.get("/security", nil); !strings.Contains(body, `data-testid="idp-linked"`) {
		t.Fatalf("not shown as linked:\n%.2000s", body)
	}
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "p7", "paula@kunde.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("sign-in after linking: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// Without MFA at the provider, the Portier factor she has is asked for.
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "p7", "paula@kunde.example", false))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("sign-in without provider MFA: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	// Another organisation's provider cannot be linked (404, as if it did not exist).
	other := e.createOrg("Andere AG", "andere")
	e.saveIdP(other.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantB, Domains: "andere.example"})
	po, _ := e.db.IdPByOrg(context.Background(), other.ID)
	e.newClient()
	e.login(u.Email, testPassword)
	if resp, _ := e.post("/security/idp/"+itoa64(po.ID)+"/link", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation's provider: %d", resp.StatusCode)
	}

	// After 10 minutes the password is asked again first.
	e.clock.Advance(11 * time.Minute)
	if resp, _ := e.post(start, nil, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/security/confirm") {
		t.Fatalf("stale password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A multi-tenant app registration ("organizations"): each token names its own tenant, and a domain counts
// only for the tenant the administrators wrote next to it. Tenant B's account with Anna's address is
// refused; tenant A's Anna gets in.
func TestIdPEntraOrganizations(t *testing.T) {
	e := newIdPEnv(t)
	e.op.Issuer(testkit.EntraOrganizations)
	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: idp.EntraOrganizations, Domains: "kunde.example " + tenantA})
	link := e.invite("anna@kunde.example", "Anna", e.org.ID, "viewer", "en")

	resp, body, _ := e.acceptByProvider(link, testkit.EntraOrganizations, entraUser(tenantB, "evil", "anna@kunde.example", true))
	wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)

	e.newClient()
	resp, body, _ = e.acceptByProvider(link, testkit.EntraOrganizations, entraUser(tenantA, "a1", "anna@kunde.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("tenant A's Anna: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, err := e.db.IdentityBySubject(context.Background(), "entra "+tenantA+" a1"); err != nil {
		t.Fatal(err)
	}
}

// A provider that cannot be reached gets its own message (and the support contact), not an error page.
func TestIdPUnreachable(t *testing.T) {
	e := newIdPEnv(t)
	o := e.createOrg("Offline AG", "offline")
	e.saveIdP(o.ID, &db.IdP{Kind: idp.KindOIDC, Name: "Offline SSO", Issuer: "http://127.0.0.1:1/realm", Domains: "offline.example"})
	resp, body := e.post("/login/idp", url.Values{"idp": {"Offline SSO"}}, nil)
	wantRefusal(t, resp, body, "error.unreachable", http.StatusBadGateway)
}

// An account made through a provider speaks the invitation's language, as the invitation page did, unless
// the person chose another with the language switch; the browser's header chose nothing. Before, a German
// invitation accepted with Microsoft from an English browser made an English account.
func TestIdPInvitationKeepsTheInvitationsLanguage(t *testing.T) {
	for _, c := range []struct {
		name, cookie, want string
	}{{"no choice", "", "de"}, {"chosen with the switch", "en", "en"}} {
		t.Run(c.name, func(t *testing.T) {
			e := newIdPEnv(t)
			link := e.invite("anna@kunde.example", "Anna Beispiel", e.org.ID, "viewer", "de")
			// An English browser: every request of the round trip says so.
			e.client.Transport = langTransport{"en-US,en;q=0.9", e.client.Transport}
			if c.cookie != "" {
				e.client.Jar.SetCookies(mustURL(t, e.ts.URL), []*http.Cookie{{Name: e.srv.cookieLang, Value: c.cookie, Path: "/"}})
			}
			if _, body := e.get(link, nil); !strings.Contains(body, `lang="`+c.want+`"`) {
				t.Fatalf("invitation page not in %s", c.want)
			}
			e.op.SignInAs(realmA, entraUser(tenantA, "0b1c", "anna@kunde.example", true))
			resp, body := e.post(link+"/idp", url.Values{"terms": {"1"}}, nil)
			if resp, _, _ := e.roundTrip(resp, body); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("after the provider: %d", resp.StatusCode)
			}
			u, err := e.db.UserByEmail(context.Background(), "anna@kunde.example")
			if err != nil || u.Lang != c.want {
				t.Fatalf("account language %q (%v), want %q", u.Lang, err, c.want)
			}
		})
	}
}

// langTransport sends every request with the given Accept-Language.
type langTransport struct {
	lang string
	next http.RoundTripper
}

func (t langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", t.lang)
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
