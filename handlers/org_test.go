package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"portier/auth"
	"portier/db"
)

// Helpers of the people tests (prefixed so they cannot clash with other files' helpers).

// peopleSignIn signs email in with a fresh cookie jar and returns that jar, so a test can hold several
// people's browsers and switch between them with peopleUse.
func peopleSignIn(e *testEnv, email string) http.CookieJar {
	e.t.Helper()
	e.newClient()
	e.login(email, testPassword)
	return e.client.Jar
}

func peopleUse(e *testEnv, jar http.CookieJar) { e.client.Jar = jar }

// peopleInvitations returns the invitations of an organisation (0: staff), newest first.
func peopleInvitations(e *testEnv, orgID int64) []*db.Invitation {
	e.t.Helper()
	invs, err := e.db.Invitations(context.Background(), orgID)
	if err != nil {
		e.t.Fatal(err)
	}
	return invs
}

// peopleInvitationOfLink finds the invitation of an /invite/<token> path.
func peopleInvitationOfLink(e *testEnv, path string) *db.Invitation {
	e.t.Helper()
	hash, err := auth.HashToken(strings.TrimPrefix(path, "/invite/"))
	if err != nil {
		e.t.Fatal(err)
	}
	inv, err := e.db.InvitationByToken(context.Background(), hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return inv
}

// peopleAuditCount counts audit entries of an action in an organisation (0: any).
func peopleAuditCount(e *testEnv, orgID int64, action string) int {
	e.t.Helper()
	es, err := e.db.AuditList(context.Background(), db.AuditFilter{OrgID: orgID, Action: action, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, x := range es {
		if x.Action == action {
			n++
		}
	}
	return n
}

func id64(id int64) string { return strconv.FormatInt(id, 10) }

func TestOrgHomeShowsOrganisationRoleSupportAndDocsPlaceholder(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("manager@alpha.example", "Mara Manager", "", map[int64]string{a.ID: "manager"})
	e.createUser("viewer@alpha.example", "Vic Viewer", "", map[int64]string{a.ID: "viewer"})
	e.createUser("tech@msp.example", "Theo Tech", "technician", nil)

	peopleSignIn(e, "manager@alpha.example")
	resp, body := e.get("/o/alpha", nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=org-name]`).Text() != "Alpha GmbH" {
		t.Fatalf("home: %d %q", resp.StatusCode, d.Find(`[data-testid=org-name]`).Text())
	}
	if got := d.Find(`[data-testid=org-role]`).Text(); !strings.Contains(got, "Manager") {
		t.Errorf("role: %q", got)
	}
	if d.Find(`[data-testid=org-support-email]`).Text() != "support@muster-it.example" ||
		d.Find(`[data-testid=org-support-phone]`).Text() != "+49 30 1234567" {
		t.Errorf("support contact missing")
	}
	if !strings.Contains(d.Find(`[data-testid=org-docs-empty]`).Text(), "Muster IT") {
		t.Errorf("documentation placeholder: %q", d.Find(`[data-testid=org-docs]`).Text())
	}
	if href, _ := d.Find(`[data-testid=org-people-link]`).Attr("href"); href != "/o/alpha/people" {
		t.Errorf("people link: %q", href)
	}
	if d.Find(`[data-testid=org-switch]`).Length() != 0 {
		t.Errorf("switch offered to a person in one organisation")
	}

	peopleSignIn(e, "viewer@alpha.example")
	_, body = e.get("/o/alpha", nil)
	d = doc(t, body)
	if d.Find(`[data-testid=org-people-link]`).Length() != 0 || d.Find(`[data-testid=org-audit-link]`).Length() != 0 {
		t.Errorf("viewer sees management links")
	}
	if !strings.Contains(d.Find(`[data-testid=org-role]`).Text(), "Viewer") {
		t.Errorf("viewer role: %q", d.Find(`[data-testid=org-role]`).Text())
	}

	peopleSignIn(e, "tech@msp.example")
	resp, body = e.get("/o/alpha", nil)
	d = doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=org-people-link]`).Length() != 1 {
		t.Fatalf("staff on an organisation's home: %d", resp.StatusCode)
	}
	if d.Find(`[data-testid=org-support]`).Length() != 0 {
		t.Errorf("staff are shown their own support contact")
	}
	if resp, _ := e.get("/o/alpha/people", nil); resp.StatusCode != 200 {
		t.Errorf("staff on people page: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/o/nonexistent", nil); resp.StatusCode != 404 {
		t.Errorf("unknown organisation: %d", resp.StatusCode)
	}
}

func TestOrgAuditShowsOnlyTheOrganisation(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createOrg("Beta KG", "beta")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("tech@msp.example", "Theo Tech", "technician", nil)

	peopleSignIn(e, "tech@msp.example")
	e.post("/o/alpha/people/invite", url.Values{"email": {"by-staff@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	e.post("/o/beta/people/invite", url.Values{"email": {"secret@beta.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	peopleSignIn(e, "manager@alpha.example")
	e.post("/o/alpha/people/invite", url.Values{"email": {"by-manager@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)

	resp, body := e.get("/o/alpha/audit", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("org audit: %d", resp.StatusCode)
	}
	d := doc(t, body)
	rows := d.Find(`[data-testid=audit-row]`)
	if rows.Length() != 2 {
		t.Fatalf("%d rows:\n%s", rows.Length(), d.Find(`[data-testid=audit-table]`).Text())
	}
	text := d.Find(`[data-testid=audit-table]`).Text()
	for _, want := range []string{"by-staff@alpha.example", "by-manager@alpha.example", "Theo Tech", "Invitation sent"} {
		if !strings.Contains(text, want) {
			t.Errorf("org audit lacks %q", want)
		}
	}
	if strings.Contains(body, "secret@beta.example") {
		t.Errorf("org audit shows entries of others")
	}
	// The action filter narrows; a foreign org parameter is ignored.
	_, body = e.get("/o/alpha/audit?action=login&org=beta", nil)
	if n := doc(t, body).Find(`[data-testid=audit-row]`).Length(); n != 0 {
		t.Errorf("filtered: %d rows", n)
	}
	_, body = e.get("/o/alpha/audit?org=beta", nil)
	if strings.Contains(body, "secret@beta.example") {
		t.Errorf("org parameter widened the org audit")
	}
}
