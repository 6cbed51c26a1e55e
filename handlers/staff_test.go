package handlers

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

func TestStaffPagesAreHiddenFromCustomersAndAdminPagesFromTechnicians(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("tech@msp.example", "Theo", "technician", nil)
	admin := e.createUser("admin@msp.example", "Ada", "admin", nil)

	gets := []string{"/staff", "/staff/people", "/staff/settings", "/staff/audit"}
	posts := map[string]url.Values{
		"/staff/orgs":          {"name": {"Neu GmbH"}},
		"/staff/people/invite": {"email": {"x@msp.example"}, "role": {"admin"}, "lang": {"de"}},
		"/staff/people/" + id64(admin.ID) + "/disable": nil,
		"/staff/settings":       {"msp_name": {"Evil"}, "support_email": {"evil@x.example"}, "ttl_days": {"7"}},
		"/staff/settings/terms": {"terms_de": {"x"}, "terms_en": {"x"}},
	}
	peopleSignIn(e, "manager@alpha.example")
	for _, p := range gets {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Errorf("customer GET %s: %d", p, resp.StatusCode)
		}
	}
	for p, f := range posts {
		if resp, _ := e.post(p, f, nil); resp.StatusCode != 404 {
			t.Errorf("customer POST %s: %d", p, resp.StatusCode)
		}
	}

	peopleSignIn(e, "tech@msp.example")
	for p, want := range map[string]int{"/staff": 200, "/staff/people": 200, "/staff/settings": 404, "/staff/audit": 404} {
		if resp, _ := e.get(p, nil); resp.StatusCode != want {
			t.Errorf("technician GET %s: %d, want %d", p, resp.StatusCode, want)
		}
	}
	for p, f := range posts {
		if p == "/staff/orgs" {
			continue
		}
		if resp, _ := e.post(p, f, nil); resp.StatusCode != 404 {
			t.Errorf("technician POST %s: %d", p, resp.StatusCode)
		}
	}
	_, body := e.get("/staff", nil)
	d := doc(t, body)
	if d.Find(`[data-testid=staff-menu-settings]`).Length() != 0 || d.Find(`[data-testid=staff-menu-audit]`).Length() != 0 {
		t.Errorf("technician's menu offers admin pages")
	}
	_, body = e.get("/staff/people", nil)
	if doc(t, body).Find(`[data-testid=invite]`).Length() != 0 {
		t.Errorf("technician is offered the staff invitation form")
	}

	ctx := context.Background()
	if u, _ := e.db.UserByID(ctx, admin.ID); u.Disabled {
		t.Fatal("admin disabled by someone without the right")
	}
	if name, _ := e.db.Setting(ctx, "msp.name", ""); name != "" {
		t.Fatal("settings changed by someone without the right")
	}
	if terms, _ := e.db.CurrentTerms(ctx); terms.Version != 1 {
		t.Fatal("terms published by someone without the right")
	}
	if orgs, _ := e.db.Orgs(ctx); len(orgs) != 1 {
		t.Fatal("customer created an organisation")
	}

	// Signed out, staff pages send to the sign-in page.
	e.newClient()
	if resp, _ := e.get("/staff", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
}

func TestStaffCreatesOrganisations(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("tech@msp.example", "Theo", "technician", nil)
	peopleSignIn(e, "tech@msp.example")

	resp, _ := e.post("/staff/orgs", url.Values{"name": {"Müller & Söhne GmbH"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/o/mueller-soehne-gmbh/people" {
		t.Fatalf("create: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	o, err := e.db.OrgBySlug(context.Background(), "mueller-soehne-gmbh")
	if err != nil || o.Name != "Müller & Söhne GmbH" {
		t.Fatalf("org: %v %+v", err, o)
	}
	if peopleAuditCount(e, o.ID, "org.create") != 1 {
		t.Errorf("no audit entry")
	}
	resp, _ = e.post("/staff/orgs", url.Values{"name": {"Beta KG"}, "slug": {"beta"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create with slug: %d", resp.StatusCode)
	}
	e.createUser("b1@beta.example", "B1", "", map[int64]string{mustOrg(e, "beta").ID: "viewer"})
	e.createUser("b2@beta.example", "B2", "", map[int64]string{mustOrg(e, "beta").ID: "manager"})
	_, body := e.get("/staff", nil)
	d := doc(t, body)
	if d.Find(`[data-testid=org-people-beta]`).Text() != "2" || d.Find(`[data-testid=org-people-mueller-soehne-gmbh]`).Text() != "0" {
		t.Errorf("people counts: %q %q", d.Find(`[data-testid=org-people-beta]`).Text(), d.Find(`[data-testid=org-people-mueller-soehne-gmbh]`).Text())
	}

	e.createOrg("Beta KG Zwei", "beta-kg")
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {"Beta Zwei"}, "slug": {"beta"}}, "org-slug-error"},
		{url.Values{"name": {"Beta KG"}}, "org-slug-error"}, // the derived slug beta-kg is taken
		{url.Values{"name": {"Gamma"}, "slug": {"Bad Slug!"}}, "org-slug-error"},
		{url.Values{"name": {"Gamma"}, "slug": {"-gamma"}}, "org-slug-error"},
		{url.Values{"name": {""}}, "org-name-error"},
		{url.Values{"name": {strings.Repeat("x", 101)}}, "org-name-error"},
		{url.Values{"name": {"!!!"}}, "org-slug-error"},
	} {
		before, _ := e.db.Orgs(context.Background())
		resp, body := e.post("/staff/orgs", c.form, nil)
		d := doc(t, body)
		if resp.StatusCode != 422 || d.Find(`[data-testid=`+c.field+`]`).Length() != 1 {
			t.Errorf("%v: %d, %s: %d", c.form, resp.StatusCode, c.field, d.Find(`[data-testid=`+c.field+`]`).Length())
		}
		if after, _ := e.db.Orgs(context.Background()); len(after) != len(before) {
			t.Errorf("%v created an organisation", c.form)
		}
	}
	_, body = e.post("/staff/orgs", url.Values{"name": {"Beta Zwei"}, "slug": {"beta"}}, map[string]string{"Accept-Language": "en"})
	if msg := doc(t, body).Find(`[data-testid=org-slug-error]`).Text(); !strings.Contains(msg, "already used") {
		t.Errorf("duplicate slug message: %q", msg)
	}
}

func mustOrg(e *testEnv, slug string) *db.Org {
	e.t.Helper()
	o, err := e.db.OrgBySlug(context.Background(), slug)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func TestSettingsChangeNameContactAndInvitationLifetime(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("admin@msp.example", "Ada", "admin", nil)
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	peopleSignIn(e, "admin@msp.example")

	resp, body := e.get("/staff/settings", nil)
	d := doc(t, body)
	if v, _ := d.Find(`#msp-name`).Attr("value"); resp.StatusCode != 200 || v != "Muster IT" {
		t.Fatalf("settings: %d, name %q", resp.StatusCode, v)
	}
	if v, _ := d.Find(`#ttl-days`).Attr("value"); v != "7" {
		t.Errorf("default lifetime %q", v)
	}

	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"msp_name": {""}, "support_email": {"s@x.example"}, "ttl_days": {"7"}}, "msp-name-error"},
		{url.Values{"msp_name": {"X"}, "support_email": {"kein"}, "ttl_days": {"7"}}, "support-email-error"},
		{url.Values{"msp_name": {"X"}, "support_email": {"s@x.example"}, "support_phone": {"call me"}, "ttl_days": {"7"}}, "support-phone-error"},
		{url.Values{"msp_name": {"X"}, "support_email": {"s@x.example"}, "ttl_days": {"0"}}, "ttl-days-error"},
		{url.Values{"msp_name": {"X"}, "support_email": {"s@x.example"}, "ttl_days": {"31"}}, "ttl-days-error"},
		{url.Values{"msp_name": {"X"}, "support_email": {"s@x.example"}, "ttl_days": {"2.5"}}, "ttl-days-error"},
	} {
		resp, body := e.post("/staff/settings", c.form, nil)
		if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=`+c.field+`]`).Length() != 1 {
			t.Errorf("%v: %d", c.form, resp.StatusCode)
		}
	}
	if e.srv.msp.Load().Name != "Muster IT" {
		t.Fatal("invalid settings were applied")
	}

	resp, _ = e.post("/staff/settings", url.Values{
		"msp_name": {"Neue IT Partner"}, "support_email": {"hilfe@neue-it.example"}, "support_phone": {"+49 89 555 0"}, "ttl_days": {"3"},
	}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, body = e.get("/staff/settings", nil)
	d = doc(t, body)
	if got := d.Find(`[data-testid=brand]`).Text(); got != "Neue IT Partner" {
		t.Fatalf("header shows %q", got)
	}
	if d.Find(`[data-testid=support-email]`).Text() != "hilfe@neue-it.example" || d.Find(`[data-testid=alert-success]`).Length() != 1 {
		t.Errorf("support contact or confirmation missing")
	}
	if got := e.srv.accounts.InviteTTL(context.Background()); got != 72*time.Hour {
		t.Errorf("invitation lifetime %v", got)
	}
	if peopleAuditCount(e, 0, "settings.update") != 1 {
		t.Errorf("no audit entry")
	}

	// Customers see the new contact; new invitations use the new lifetime and name.
	peopleSignIn(e, "manager@alpha.example")
	_, body = e.get("/o/alpha", nil)
	if doc(t, body).Find(`[data-testid=org-support-email]`).Text() != "hilfe@neue-it.example" {
		t.Errorf("customer sees the old contact")
	}
	e.post("/o/alpha/people/invite", url.Values{"email": {"neu@alpha.example"}, "role": {"viewer"}, "lang": {"en"}}, nil)
	m := e.lastMailTo("neu@alpha.example")
	if !strings.Contains(m.Text, "Neue IT Partner") || !strings.Contains(m.Text, "hilfe@neue-it.example") {
		t.Errorf("mail does not carry the new MSP details:\n%s", m.Text)
	}
	inv := peopleInvitations(e, a.ID)[0]
	if d := inv.ExpiresAt.Sub(inv.CreatedAt); d != 72*time.Hour {
		t.Errorf("invitation valid for %v", d)
	}
	// A new server (a restart) reads the stored values.
	s2, err := newServer(e.tc, e.db, e.srv.i18n, e.srv.assets)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.msp.Load().Name != "Neue IT Partner" {
		t.Errorf("restart forgot the name")
	}
}

func TestPublishTermsAsksEveryoneAgain(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("admin@msp.example", "Ada", "admin", nil)
	e.createUser("viewer@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"})
	vic := peopleSignIn(e, "viewer@alpha.example")
	peopleSignIn(e, "admin@msp.example")

	resp, body := e.post("/staff/settings/terms", url.Values{"terms_de": {"Neue Bedingungen"}, "terms_en": {"  "}}, nil)
	if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=terms-en-error]`).Length() != 1 {
		t.Fatalf("missing English: %d", resp.StatusCode)
	}
	if v, _ := doc(t, body).Find(`#terms-de`).Html(); !strings.Contains(v, "Neue Bedingungen") {
		t.Errorf("German text not kept: %q", v)
	}
	resp, _ = e.post("/staff/settings/terms", url.Values{"terms_de": {"Neue Bedingungen <b>fett</b>"}, "terms_en": {"New terms"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	terms, _ := e.db.CurrentTerms(context.Background())
	if terms.Version != 2 || terms.TextEN != "New terms" {
		t.Fatalf("terms %+v", terms)
	}
	if peopleAuditCount(e, 0, "terms.publish") != 1 {
		t.Errorf("no audit entry")
	}
	// The admin, too, must accept before going on; so must everyone else.
	if resp, _ := e.get("/staff/settings", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/terms" {
		t.Errorf("admin after publishing: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	peopleUse(e, vic)
	if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/terms" {
		t.Errorf("customer after publishing: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestStaffAuditFilterAndPaging(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	peopleSignIn(e, "admin@msp.example")
	e.post("/o/alpha/people/invite", url.Values{"email": {"a1@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	e.post("/o/beta/people/invite", url.Values{"email": {"b1@beta.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)

	resp, body := e.get("/staff/audit", map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 {
		t.Fatalf("audit: %d", resp.StatusCode)
	}
	d := doc(t, body)
	actions := map[string]bool{}
	d.Find(`[data-testid=audit-row]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("data-action")
		actions[v] = true
	})
	for _, want := range []string{"login.ok", "invite.create"} {
		if !actions[want] {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
	text := d.Find(`[data-testid=audit-table]`).Text()
	for _, want := range []string{"Signed in", "Invitation sent", "Ada Admin", "Alpha GmbH", "Beta KG", "127.0.0.1"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit lacks %q", want)
		}
	}

	_, body = e.get("/staff/audit?org=beta", nil)
	d = doc(t, body)
	if n := d.Find(`[data-testid=audit-row]`).Length(); n != 1 || !strings.Contains(d.Find(`[data-testid=audit-table]`).Text(), "b1@beta.example") {
		t.Errorf("org filter: %d rows", n)
	}
	_, body = e.get("/staff/audit?action=login", nil)
	doc(t, body).Find(`[data-testid=audit-row]`).Each(func(_ int, s *goquery.Selection) {
		if v, _ := s.Attr("data-action"); !strings.HasPrefix(v, "login") {
			t.Errorf("action filter let %s through", v)
		}
	})

	// Unknown actions show their raw name.
	e.db.Audit(context.Background(), nil, db.AuditEntry{Action: "future.thing", OrgID: a.ID})
	_, body = e.get("/staff/audit?action=future", nil)
	if !strings.Contains(doc(t, body).Find(`[data-testid=audit-table]`).Text(), "future.thing") {
		t.Errorf("unknown action not shown raw")
	}

	// Paging: 60 more entries in beta.
	for i := 0; i < 60; i++ {
		e.db.Audit(context.Background(), nil, db.AuditEntry{Action: "paging.test", OrgID: b.ID, Target: "n" + id64(int64(i))})
	}
	_, body = e.get("/staff/audit?action=paging", nil)
	d = doc(t, body)
	older, ok := d.Find(`[data-testid=audit-older]`).Attr("href")
	if d.Find(`[data-testid=audit-row]`).Length() != 50 || !ok {
		t.Fatalf("first page: %d rows, older %q", d.Find(`[data-testid=audit-row]`).Length(), older)
	}
	_, body = e.get(older, nil)
	d = doc(t, body)
	if n := d.Find(`[data-testid=audit-row]`).Length(); n != 10 || d.Find(`[data-testid=audit-older]`).Length() != 0 ||
		d.Find(`[data-testid=audit-first]`).Length() != 1 {
		t.Errorf("second page: %d rows", n)
	}
	if !strings.Contains(d.Find(`[data-testid=audit-table]`).Text(), "n0") || strings.Contains(d.Find(`[data-testid=audit-table]`).Text(), "n59") {
		t.Errorf("second page holds the wrong entries")
	}
}

func TestStaffActionsOnAnOrganisation(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	v := e.createUser("viewer@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"})
	e.createUser("tech@msp.example", "Theo", "technician", nil)
	peopleSignIn(e, "tech@msp.example")
	resp, _ := e.post("/o/alpha/people/invite", url.Values{"email": {"m@alpha.example"}, "role": {"manager"}, "lang": {"de"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("staff invite into an organisation: %d", resp.StatusCode)
	}
	if m := e.lastMailTo("m@alpha.example"); !strings.Contains(m.Subject, "Theo") || !strings.Contains(m.Text, "Alpha GmbH") {
		t.Errorf("mail: %s\n%s", m.Subject, m.Text)
	}
	resp, _ = e.post("/o/alpha/people/"+id64(v.ID)+"/role", url.Values{"role": {"manager"}}, nil)
	if r, _ := e.db.MemberRole(context.Background(), v.ID, a.ID); resp.StatusCode != 303 || r != "manager" {
		t.Fatalf("staff role change: %d %s", resp.StatusCode, r)
	}
}

// Every action of the people and staff pages leaves an audit entry that administrators see, in words.
func TestEveryPeopleActionIsAuditedAndShownToAdmins(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tech@msp.example", "Theo", "technician", nil)
	peopleSignIn(e, "admin@msp.example")

	// A fresh installation: the MSP is named first (the setup step), then the first organisation.
	e.post("/staff/welcome", url.Values{"msp_name": {"Muster IT"}, "support_email": {"support@muster-it.example"}, "support_phone": {"+49 30 1234567"}}, nil)
	e.post("/staff/orgs", url.Values{"name": {"Alpha GmbH"}, "slug": {"alpha"}}, nil)
	a := mustOrg(e, "alpha")
	v := e.createUser("viewer@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"})
	e.post("/o/alpha/people/invite", url.Values{"email": {"n@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	inv := peopleInvitations(e, a.ID)[0]
	e.post("/o/alpha/invitations/"+id64(inv.ID)+"/resend", nil, nil)
	inv = peopleInvitations(e, a.ID)[0]
	e.post("/o/alpha/invitations/"+id64(inv.ID)+"/revoke", nil, nil)
	e.post("/o/alpha/people/"+id64(v.ID)+"/role", url.Values{"role": {"manager"}}, nil)
	e.post("/o/alpha/people/"+id64(v.ID)+"/disable", nil, nil)
	e.post("/o/alpha/people/"+id64(v.ID)+"/enable", nil, nil)
	e.post("/staff/people/"+id64(tech.ID)+"/disable", nil, nil)
	e.post("/staff/settings", url.Values{"msp_name": {"Muster IT"}, "support_email": {"support@muster-it.example"}, "ttl_days": {"14"}}, nil)
	e.post("/staff/settings/terms", url.Values{"terms_de": {"Neu"}, "terms_en": {"New"}}, nil)
	terms, _ := e.db.CurrentTerms(context.Background())
	e.post("/terms", url.Values{"decision": {"accept"}, "version": {id64(int64(terms.Version))}}, nil)

	_, body := e.get("/staff/audit", nil)
	d := doc(t, body)
	seen := map[string]string{}
	d.Find(`[data-testid=audit-row]`).Each(func(_ int, s *goquery.Selection) {
		a, _ := s.Attr("data-action")
		seen[a] = s.Text()
	})
	l := e.srv.i18n.For("en", "")
	for _, action := range []string{"org.create", "invite.create", "invite.resend", "invite.revoke", "member.role",
		"user.disable", "user.enable", "settings.update", "terms.publish", "terms.accept", "login.ok"} {
		row, ok := seen[action]
		if !ok {
			t.Errorf("audit lacks %s", action)
			continue
		}
		if txt := l.T("audit." + action); txt == "audit."+action || !strings.Contains(row, txt) {
			t.Errorf("%s shown as %q", action, row)
		}
	}
	if !strings.Contains(seen["member.role"], "viewer@alpha.example") || !strings.Contains(seen["settings.update"], "Invitation lifetime (days): 14") || !strings.Contains(seen["member.role"], "(Viewer → Manager)") {
		t.Errorf("targets: %q / %q", seen["member.role"], seen["settings.update"])
	}
}
