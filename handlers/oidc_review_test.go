package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"portier/db"
	"portier/idp"
	"portier/testkit"
)

// A review of the provider sign-in from an attacker's side: authority across organisations, the second
// factor of a person in several organisations, who may configure a provider, and where the secret goes.

// linkDirect links a provider subject to a person as a finished sign-in would have.
func (e *idpEnv) linkDirect(uid, orgID int64, key, email string) {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.db.IdPByOrg(ctx, orgID)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		return db.LinkIdentity(ctx, tx, e.clock.Now(), uid, p.ID, key, email)
	}); err != nil {
		e.t.Fatal(err)
	}
}

// The provider of organisation A speaks for A: its second factor does not open the documentation of
// organisation B, which never agreed to trust it. A person in both passes Portier's own factor (or enrols
// one); so does a person who joins B while signed in through A's provider.
func TestIdPProviderMFAStaysWithItsOrganisation(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")

	// Without any Portier factor: enrol one first.
	max := e.createUserNoMFA("max@kunde.example", "Max", "", map[int64]string{e.org.ID: "viewer", other.ID: "viewer"})
	e.linkDirect(max.ID, e.org.ID, "entra "+tenantA+" m1", max.Email)
	resp, body, _ := e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m1", max.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("member of two organisations, provider MFA: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("the other organisation's documentation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// With a Portier factor: that one is asked for.
	mia := e.createUser("mia@kunde.example", "Mia", "", map[int64]string{e.org.ID: "viewer", other.ID: "manager"})
	e.linkDirect(mia.ID, e.org.ID, "entra "+tenantA+" m2", mia.Email)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m2", mia.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("member of two organisations with a Portier factor: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	e.passSecondFactor()
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after Portier's factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Joining another organisation during a session that passed the provider's factor: Portier's factor
	// is asked for before the next page.
	ute := e.createUser("ute@kunde.example", "Ute", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(ute.ID, e.org.ID, "entra "+tenantA+" m3", ute.Email)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m3", ute.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("member of the provider's organisation only: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if err := e.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return db.SetMembership(context.Background(), tx, e.clock.Now(), ute.ID, other.ID, "viewer")
	}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("after joining another organisation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("the provider's own organisation, same session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Only MSP administrators configure, test, delete and unlink providers: a technician and the customer's
// own manager get nowhere, and nothing changes.
func TestIdPStaffRoutesOnlyForAdmins(t *testing.T) {
	e := newIdPEnv(t)
	e.createUser("tech@muster-it.example", "Tim Technik", "technician", nil)
	e.createUser("chefin@kunde.example", "Chefin", "", map[int64]string{e.org.ID: "manager"})
	linked := e.createUser("lena@kunde.example", "Lena", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(linked.ID, e.org.ID, "entra "+tenantA+" l1", linked.Email)
	ctx := context.Background()
	ids, _ := e.db.IdentitiesOfUser(ctx, linked.ID)
	before, _ := e.db.IdPByOrg(ctx, e.org.ID)
	form := url.Values{"kind": {"oidc"}, "issuer": {"https://evil.example"}, "client_id": {"x"}, "client_secret": {"y"}, "domains": {"kunde.example"}}
	for _, who := range []string{"tech@muster-it.example", "chefin@kunde.example"} {
		e.newClient()
		e.login(who, testPassword)
		for _, r := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, "/staff/orgs/kunde/idp", nil},
			{http.MethodPost, "/staff/orgs/kunde/idp", form},
			{http.MethodPost, "/staff/orgs/kunde/idp/test", nil},
			{http.MethodPost, "/staff/orgs/kunde/idp/identities/" + itoa64(ids[0].ID) + "/unlink", nil},
			{http.MethodPost, "/staff/orgs/kunde/idp/delete", nil},
		} {
			var resp *http.Response
			if r.method == http.MethodGet {
				resp, _ = e.get(r.path, nil)
			} else {
				resp, _ = e.post(r.path, r.form, nil)
			}
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s %s: %d %s", who, r.method, r.path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	after, err := e.db.IdPByOrg(ctx, e.org.ID)
	if err != nil || after.Kind != before.Kind || after.Tenant != before.Tenant || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("provider changed: %+v %v", after, err)
	}
	if got, _ := e.db.IdentitiesOfUser(ctx, linked.ID); len(got) != 1 {
		t.Fatal("link removed")
	}
}

// An administrator unlinks through the organisation that owns the provider: another organisation's
// address cannot reach the link (404), and the person stays linked.
func TestIdPUnlinkOnlyThroughItsOrganisation(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")
	e.saveIdP(other.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantB, Domains: "andere.example"})
	linked := e.createUser("lena@kunde.example", "Lena", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(linked.ID, e.org.ID, "entra "+tenantA+" l1", linked.Email)
	ids, _ := e.db.IdentitiesOfUser(context.Background(), linked.ID)
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	e.login("admin@muster-it.example", testPassword)
	if resp, _ := e.post("/staff/orgs/andere/idp/identities/"+itoa64(ids[0].ID)+"/unlink", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unlink through another organisation: %d", resp.StatusCode)
	}
	if got, _ := e.db.IdentitiesOfUser(context.Background(), linked.ID); len(got) != 1 {
		t.Fatal("link removed through another organisation")
	}
}

// The client secret is sealed before it reaches SQLite: not in the database file, its WAL, a backup, the
// log or the audit; nor do the provider's code and the state reach the log, the audit or the page.
func TestIdPSecretAndCodeStayOut(t *testing.T) {
	e := newIdPEnv(t)
	e.createOrg("Neu KG", "neu")
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	e.login("admin@muster-it.example", testPassword)
	form := url.Values{"kind": {"entra"}, "tenant": {tenantA}, "client_id": {"portier-app"}, "client_secret": {"s3cret-value"},
		"domains": {"neu.example"}}
	if resp, body := e.post("/staff/orgs/neu/idp", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.800s", resp.StatusCode, body)
	}
	e.op.SignInAs(realmA, entraUser(tenantA, "adm", "ada@neu.example", true))
	resp, body := e.post("/staff/orgs/neu/idp/test", nil, nil)
	resp, body, cb := e.roundTrip(resp, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("test connection (the secret opened and used): %d\n%.800s", resp.StatusCode, body)
	}
	q, _ := url.Parse(cb)
	code, state := q.Query().Get("code"), q.Query().Get("state")
	if code == "" || state == "" {
		t.Fatalf("callback without code or state: %s", cb)
	}
	if strings.Contains(body, code) || strings.Contains(body, state) {
		t.Error("the test page carries the provider's code or the state (language and theme links)")
	}
	// A refusal page too.
	e.newClient()
	resp, body = e.get(cb, nil)
	if strings.Contains(body, code) || strings.Contains(body, state) {
		t.Errorf("the refusal page carries the provider's code or the state:\n%.1500s", body)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	if err := db.Backup(context.Background(), e.db.Path, out); err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	rows, _ := e.db.R.Query(`SELECT action || ' ' || target FROM audit`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		audit.WriteString(s + "\n")
	}
	rows.Close()
	places := map[string]string{"log": e.logBuf.String(), "audit": audit.String()}
	for _, f := range []string{e.db.Path, e.db.Path + "-wal", out} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		places[filepath.Base(f)] = string(b)
	}
	for where, text := range places {
		for what, v := range map[string]string{"client secret": "s3cret-value", "code": code, "state": state} {
			if what == "state" && where != "log" && where != "audit" && where != "backup.db" {
				continue // the round trip under way lives in the session store, which backups leave out
			}
			if strings.Contains(text, v) {
				t.Errorf("%s found in %s", what, where)
			}
		}
	}
}

// next= on the provider sign-in leads on this site only; a path on this site is kept.
func TestIdPNextStaysOnSite(t *testing.T) {
	e := newIdPEnv(t)
	u := e.createUser("nina@kunde.example", "Nina", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(u.ID, e.org.ID, "entra "+tenantA+" n1", u.Email)
	for next, want := range map[string]string{
		"//evil.example/x": "/o/kunde", "https://evil.example/": "/o/kunde", "/\\evil.example": "/o/kunde",
		"/o/kunde/search?q=vpn": "/o/kunde/search?q=vpn",
	} {
		e.newClient()
		e.op.SignInAs(realmA, entraUser(tenantA, "n1", u.Email, true))
		resp, body := e.post("/login/idp", url.Values{"idp": {"Microsoft"}, "next": {next}}, nil)
		resp, body, _ = e.roundTrip(resp, body)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next=%s: %d %s, want %s\n%.500s", next, resp.StatusCode, resp.Header.Get("Location"), want, body)
		}
	}
}

// An address that only lower-casing makes someone else's is not vouched for: the provider verified
// "\u212Aarl@…" (Kelvin sign), a mailbox of its own, not karl@…'s invitation.
func TestIdPAddressCaseFoldingIsNotVouching(t *testing.T) {
	e := newIdPEnv(t)
	g := e.createOrg("Gartenbau", "garten")
	e.saveIdP(g.ID, &db.IdP{Kind: idp.KindGoogle, Name: "Google", Tenant: "garten.example", Domains: "garten.example"})
	e.invite("karl@garten.example", "Karl", g.ID, "viewer", "en")
	kelvin := &testkit.OIDCUser{Subject: "k-evil", Email: "\u212Aarl@garten.example", EmailVerified: true, Extra: map[string]any{"hd": "garten.example"}}
	resp, body, _ := e.signInByProvider("Google", "", "/google", kelvin)
	wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)
	if _, err := e.db.IdentityBySubject(context.Background(), e.op.Issuer("/google")+" k-evil"); err == nil {
		t.Fatal("linked to karl's invitation")
	}
	// Upper-case ASCII is the same mailbox.
	upper := &testkit.OIDCUser{Subject: "k-real", Email: "Karl@Garten.example", EmailVerified: true, Extra: map[string]any{"hd": "garten.example"}}
	resp, body, _ = e.signInByProvider("Google", "", "/google", upper)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/terms" {
		t.Fatalf("karl in capitals: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// Forged cross-site posts start no round trip: not the administrator's "test connection", not a sign-in
// (login CSRF), not a link from the security page.
func TestIdPCrossSitePostsRefused(t *testing.T) {
	e := newIdPEnv(t)
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	e.login("admin@muster-it.example", testPassword)
	p, _ := e.db.IdPByOrg(context.Background(), e.org.ID)
	forged := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	for _, path := range []string{"/staff/orgs/kunde/idp/test", "/staff/orgs/kunde/idp/delete", "/login/idp", "/security/idp/" + itoa64(p.ID) + "/link"} {
		resp, _ := e.post(path, url.Values{"idp": {"Microsoft"}}, forged)
		if resp.StatusCode != http.StatusForbidden || strings.HasPrefix(resp.Header.Get("Location"), e.op.Base()) {
			t.Errorf("forged POST %s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if _, err := e.db.IdPByOrg(context.Background(), e.org.ID); err != nil {
		t.Fatal("provider deleted by a forged post")
	}
}

// MSP staff never sign in through a customer's provider, also when a link names them and their address is
// in the customer's domain: they use their own password and factor.
func TestIdPStaffNeverThroughProvider(t *testing.T) {
	e := newIdPEnv(t)
	staff := e.createUser("it@kunde.example", "IT Kunde", "admin", nil)
	e.linkDirect(staff.ID, e.org.ID, "entra "+tenantA+" s1", staff.Email)
	resp, body, _ := e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "s1", staff.Email, true))
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "s2", staff.Email, true))
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
}

// A multi-tenant registration ("organizations") speaks only for the tenants its domain list names now:
// when administrators replace a wrongly entered tenant, accounts linked through that tenant no longer sign in.
func TestIdPEntraOrganizationsTenantRemoved(t *testing.T) {
	e := newIdPEnv(t)
	e.op.Issuer(testkit.EntraOrganizations)
	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: idp.EntraOrganizations, Domains: "kunde.example " + tenantB})
	link := e.invite("anna@kunde.example", "Anna", e.org.ID, "viewer", "en")
	resp, body, _ := e.acceptByProvider(link, testkit.EntraOrganizations, entraUser(tenantB, "wrong", "anna@kunde.example", true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("through the tenant listed then: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: idp.EntraOrganizations, Domains: "kunde.example " + tenantA})
	resp, body, _ = e.signInByProvider("Microsoft", "", testkit.EntraOrganizations, entraUser(tenantB, "wrong", "anna@kunde.example", true))
	wantRefusal(t, resp, body, "refused.unvouched", http.StatusForbidden)
}

// A provider speaks for its own organisation: even when administrators list another organisation's domain
// for it, it finds no invitation of that organisation and signs nobody in there.
func TestIdPProviderVouchesOnlyIntoItsOrganisation(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")
	e.saveIdP(other.ID, &db.IdP{Kind: idp.KindEntra, Name: "Andere SSO", Tenant: tenantB, Domains: "andere.example"})
	e.saveIdP(e.org.ID, &db.IdP{Kind: idp.KindEntra, Name: "Microsoft", Tenant: tenantA, Domains: "kunde.example\nandere.example"})
	e.invite("olga@andere.example", "Olga", other.ID, "viewer", "en")
	resp, body, _ := e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "o-evil", "olga@andere.example", true))
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
	// Olga, linked through her own organisation's provider, is not signed in by the other one either.
	olga := e.createUser("olaf@andere.example", "Olaf", "", map[int64]string{other.ID: "viewer"})
	e.linkDirect(olga.ID, other.ID, "entra "+tenantA+" olaf", olga.Email)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "olaf", olga.Email, true))
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
}

// One answer of the provider links once, also when the browser sends it several times at once: one
// link, one audit entry.
func TestParallelIdPLinkFromSecurityPage(t *testing.T) {
	e := newIdPEnv(t)
	u := e.createUser("paula@kunde.example", "Paula", "", map[int64]string{e.org.ID: "manager"})
	e.login(u.Email, testPassword)
	p, _ := e.db.IdPByOrg(context.Background(), e.org.ID)
	e.op.SignInAs(realmA, entraUser(tenantA, "p7", u.Email, true))
	resp, _ := e.post("/security/idp/"+itoa64(p.ID)+"/link", nil, nil)
	loc := resp.Header.Get("Location")
	for !strings.HasPrefix(loc, e.ts.URL) {
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		r, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		next, err := r.Location()
		if err != nil {
			t.Fatalf("provider answered %d at %s", r.StatusCode, loc)
		}
		loc = next.String()
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
			if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/security" {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var links, audits int
	e.db.R.QueryRow(`SELECT count(*) FROM user_identities WHERE user_id = ?`, u.ID).Scan(&links)
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'idp.link'`).Scan(&audits)
	if ok != 1 || links != 1 || audits != 1 {
		t.Fatalf("%d of %d parallel uses of one answer linked; %d links, %d audit entries; want 1, 1, 1", ok, n, links, audits)
	}
}

// One answer of the provider signs in once, also when the browser sends it several times at once: one
// session, one audited sign-in.
func TestParallelIdPSignInBySubject(t *testing.T) {
	e := newIdPEnv(t)
	u := e.createUser("nina@kunde.example", "Nina", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(u.ID, e.org.ID, "entra "+tenantA+" n1", u.Email)
	e.op.SignInAs(realmA, entraUser(tenantA, "n1", u.Email, true))
	resp, _ := e.post("/login/idp", url.Values{"idp": {"Microsoft"}}, nil)
	loc := resp.Header.Get("Location")
	for !strings.HasPrefix(loc, e.ts.URL) {
		req, _ := http.NewRequest(http.MethodGet, loc, nil)
		r, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		next, err := r.Location()
		if err != nil {
			t.Fatalf("provider answered %d at %s", r.StatusCode, loc)
		}
		loc = next.String()
	}
	cb := strings.TrimPrefix(loc, e.ts.URL)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, e.URL(cb), nil)
			if r, err := e.client.Do(req); err == nil {
				r.Body.Close()
			}
		}()
	}
	wg.Wait()
	var logins, sessions int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'login.idp'`).Scan(&logins)
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID).Scan(&sessions)
	if logins != 1 || sessions != 1 {
		t.Fatalf("one answer sent 8 times at once: %d sign-ins audited, %d sessions; want 1, 1", logins, sessions)
	}
}
