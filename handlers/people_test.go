package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

// A customer cannot see or act on another organisation's people: every route answers 404 with the other
// organisation's real ids, and nothing changes.
func TestCustomerCannotSeeOrActOnAnotherOrganisationsPeople(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("boss@beta.example", "Bea", "", map[int64]string{b.ID: "manager"})
	pb := e.createUser("person@beta.example", "Paul", "", map[int64]string{b.ID: "viewer"})

	// Bea invites someone into beta: a real pending invitation of beta.
	peopleSignIn(e, "boss@beta.example")
	resp, _ := e.post("/o/beta/people/invite", url.Values{"email": {"new@beta.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("beta invite: %d", resp.StatusCode)
	}
	invB := peopleInvitations(e, b.ID)[0]
	linkB := linkIn(t, e.lastMailTo("new@beta.example"))
	mailsBefore := len(e.mails())
	auditBefore := peopleAuditCount(e, 0, "invite.create") + peopleAuditCount(e, 0, "invite.resend")

	peopleSignIn(e, "manager@alpha.example")
	checks := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/o/beta", nil},
		{"GET", "/o/beta/people", nil},
		{"GET", "/o/beta/audit", nil},
		{"POST", "/o/beta/people/invite", url.Values{"email": {"x@beta.example"}, "role": {"viewer"}, "lang": {"de"}}},
		{"POST", "/o/beta/invitations/" + id64(invB.ID) + "/resend", nil},
		{"POST", "/o/beta/invitations/" + id64(invB.ID) + "/revoke", nil},
		{"POST", "/o/beta/people/" + id64(pb.ID) + "/role", url.Values{"role": {"manager"}}},
		{"POST", "/o/beta/people/" + id64(pb.ID) + "/disable", nil},
		// Through the own organisation's routes, with beta's ids:
		{"POST", "/o/alpha/invitations/" + id64(invB.ID) + "/resend", nil},
		{"POST", "/o/alpha/invitations/" + id64(invB.ID) + "/revoke", nil},
		{"POST", "/o/alpha/people/" + id64(pb.ID) + "/role", url.Values{"role": {"manager"}}},
		{"POST", "/o/alpha/people/" + id64(pb.ID) + "/disable", nil},
		{"POST", "/o/alpha/people/" + id64(pb.ID) + "/enable", nil},
		{"POST", "/o/alpha/people/" + id64(invB.UserID) + "/disable", nil},
	}
	for _, ck := range checks {
		var resp *http.Response
		var body string
		if ck.method == "GET" {
			resp, body = e.get(ck.path, nil)
		} else {
			resp, body = e.post(ck.path, ck.form, nil)
		}
		if resp.StatusCode != 404 {
			t.Errorf("%s %s: %d, want 404", ck.method, ck.path, resp.StatusCode)
		}
		for _, leak := range []string{"person@beta.example", "new@beta.example", "Beta KG"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s %s shows %q", ck.method, ck.path, leak)
			}
		}
	}

	ctx := context.Background()
	if inv, _ := e.db.InvitationByID(ctx, invB.ID); inv.Status != db.InvitePending {
		t.Errorf("beta's invitation is %s", inv.Status)
	}
	if inv := peopleInvitationOfLink(e, linkB); inv.ID != invB.ID || inv.Status != db.InvitePending {
		t.Errorf("beta's link changed: %d %s", inv.ID, inv.Status)
	}
	if n := len(peopleInvitations(e, b.ID)); n != 1 {
		t.Errorf("beta has %d invitations", n)
	}
	if role, _ := e.db.MemberRole(ctx, pb.ID, b.ID); role != "viewer" {
		t.Errorf("beta person's role: %s", role)
	}
	if u, _ := e.db.UserByID(ctx, pb.ID); u.Disabled {
		t.Errorf("beta person disabled")
	}
	if _, err := e.db.MemberRole(ctx, pb.ID, a.ID); err == nil {
		t.Errorf("beta person became a member of alpha")
	}
	if n := len(e.mails()); n != mailsBefore {
		t.Errorf("%d mails queued", n-mailsBefore)
	}
	if n := peopleAuditCount(e, 0, "invite.create") + peopleAuditCount(e, 0, "invite.resend"); n != auditBefore {
		t.Errorf("invitation audit entries changed: %d → %d", auditBefore, n)
	}
}

func TestViewerHasNoPeoplePages(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("viewer@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"})
	other := e.createUser("other@alpha.example", "Olga", "", map[int64]string{a.ID: "viewer"})
	peopleSignIn(e, "viewer@alpha.example")
	for _, p := range []string{"/o/alpha/people", "/o/alpha/audit"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	for p, f := range map[string]url.Values{
		"/o/alpha/people/invite":                         {"email": {"x@alpha.example"}, "role": {"viewer"}, "lang": {"de"}},
		"/o/alpha/people/" + id64(other.ID) + "/role":    {"role": {"manager"}},
		"/o/alpha/people/" + id64(other.ID) + "/disable": nil,
	} {
		if resp, _ := e.post(p, f, nil); resp.StatusCode != 404 {
			t.Errorf("POST %s: %d", p, resp.StatusCode)
		}
	}
	if len(peopleInvitations(e, a.ID)) != 0 || len(e.mails()) != 0 {
		t.Errorf("a viewer's invitation went through")
	}
}

func TestChangeRole(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	m := e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	v := e.createUser("viewer@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"})
	ctx := context.Background()
	peopleSignIn(e, "manager@alpha.example")

	resp, _ := e.post("/o/alpha/people/"+id64(v.ID)+"/role", url.Values{"role": {"manager"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("role change: %d", resp.StatusCode)
	}
	if r, _ := e.db.MemberRole(ctx, v.ID, a.ID); r != "manager" {
		t.Fatalf("role %s", r)
	}
	if peopleAuditCount(e, a.ID, "member.role") != 1 {
		t.Errorf("no audit entry")
	}
	// A role the route does not offer is refused.
	resp, body := e.post("/o/alpha/people/"+id64(v.ID)+"/role", url.Values{"role": {"admin"}}, nil)
	if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=alert-error]`).Length() != 1 {
		t.Fatalf("role admin: %d", resp.StatusCode)
	}
	if u, _ := e.db.UserByID(ctx, v.ID); u.StaffRole != "" {
		t.Fatalf("became staff")
	}
	// Nobody demotes themselves out of this page.
	resp, _ = e.post("/o/alpha/people/"+id64(m.ID)+"/role", url.Values{"role": {"viewer"}}, nil)
	if resp.StatusCode != 422 {
		t.Fatalf("self demotion: %d", resp.StatusCode)
	}
	if r, _ := e.db.MemberRole(ctx, m.ID, a.ID); r != "manager" {
		t.Fatalf("own role changed to %s", r)
	}
	// The page offers no role control for oneself.
	_, body = e.get("/o/alpha/people", nil)
	d := doc(t, body)
	if d.Find(`[data-testid=role-`+id64(m.ID)+`]`).Length() != 0 || d.Find(`[data-testid=role-`+id64(v.ID)+`]`).Length() != 1 {
		t.Errorf("role controls wrong")
	}
}

func TestDisablingEndsSessionsAndManagersStayInTheirOrganisation(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	m := e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	p := e.createUser("person@alpha.example", "Paul", "", map[int64]string{a.ID: "viewer"})
	both := e.createUser("both@kanzlei.example", "Bo", "", map[int64]string{a.ID: "viewer", b.ID: "viewer"})
	e.createUser("tech@msp.example", "Theo", "technician", nil)
	ctx := context.Background()

	paul := peopleSignIn(e, "person@alpha.example")
	if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != 200 {
		t.Fatalf("paul before: %d", resp.StatusCode)
	}
	mara := peopleSignIn(e, "manager@alpha.example")
	resp, _ := e.post("/o/alpha/people/"+id64(p.ID)+"/disable", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if u, _ := e.db.UserByID(ctx, p.ID); !u.Disabled {
		t.Fatalf("not disabled")
	}
	peopleUse(e, paul)
	resp, _ = e.get("/o/alpha", nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("disabled person's next request: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions WHERE user_id = ?`, p.ID).Scan(&n)
	if n != 0 {
		t.Errorf("%d sessions left", n)
	}
	// A disabled person cannot sign in.
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {"person@alpha.example"}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Errorf("disabled sign-in: %d", resp.StatusCode)
	}

	peopleUse(e, mara)
	_, body := e.get("/o/alpha/people", nil)
	if st, _ := doc(t, body).Find(`[data-testid=member-` + id64(p.ID) + `]`).Attr("data-status"); st != "disabled" {
		t.Errorf("listed as %q", st)
	}
	resp, _ = e.post("/o/alpha/people/"+id64(p.ID)+"/enable", nil, nil)
	if u, _ := e.db.UserByID(ctx, p.ID); resp.StatusCode != 303 || u.Disabled {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	if peopleAuditCount(e, a.ID, "user.disable") != 1 || peopleAuditCount(e, a.ID, "user.enable") != 1 {
		t.Errorf("audit entries missing")
	}
	// Not oneself, and not someone who also belongs to another organisation.
	resp, _ = e.post("/o/alpha/people/"+id64(m.ID)+"/disable", nil, nil)
	if u, _ := e.db.UserByID(ctx, m.ID); resp.StatusCode != 422 || u.Disabled {
		t.Fatalf("self disable: %d", resp.StatusCode)
	}
	resp, body = e.post("/o/alpha/people/"+id64(both.ID)+"/disable", nil, nil)
	if u, _ := e.db.UserByID(ctx, both.ID); resp.StatusCode != 422 || u.Disabled {
		t.Fatalf("manager disabled a person of two organisations: %d", resp.StatusCode)
	}
	if doc(t, body).Find(`[data-testid=disable-`+id64(both.ID)+`]`).Length() != 0 {
		t.Errorf("disable offered for a person of two organisations")
	}
	// Staff may.
	peopleSignIn(e, "tech@msp.example")
	resp, _ = e.post("/o/alpha/people/"+id64(both.ID)+"/disable", nil, nil)
	if u, _ := e.db.UserByID(ctx, both.ID); resp.StatusCode != 303 || !u.Disabled {
		t.Fatalf("staff disable: %d", resp.StatusCode)
	}
}

func TestManagerNeverActsOnStaff(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	// An odd account that is staff and (through old data) a member of alpha.
	st := e.createUser("admin@msp.example", "Ada", "admin", map[int64]string{a.ID: "viewer"})
	peopleSignIn(e, "manager@alpha.example")
	for _, p := range []string{"/role", "/disable"} {
		resp, _ := e.post("/o/alpha/people/"+id64(st.ID)+p, url.Values{"role": {"manager"}}, nil)
		if resp.StatusCode != 404 {
			t.Errorf("%s on staff: %d", p, resp.StatusCode)
		}
	}
	if u, _ := e.db.UserByID(context.Background(), st.ID); u.Disabled {
		t.Fatal("staff disabled by a customer")
	}
}

func TestStaffPeopleInviteAndDisable(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	ada := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tech@msp.example", "Theo", "technician", nil)
	e.createUser("customer@alpha.example", "Cora", "", map[int64]string{a.ID: "viewer"})
	ctx := context.Background()
	theo := peopleSignIn(e, "tech@msp.example")
	peopleSignIn(e, "admin@msp.example")

	_, body := e.get("/staff/people", nil)
	d := doc(t, body)
	if d.Find(`[data-testid=member-`+id64(tech.ID)+`]`).Length() != 1 || d.Find(`[data-testid=disable-`+id64(ada.ID)+`]`).Length() != 0 {
		t.Fatalf("staff list wrong")
	}
	if strings.Contains(body, "customer@alpha.example") {
		t.Errorf("customers in the staff list")
	}

	// Invitations: only staff roles, not customers' addresses.
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"email": {"neu@msp.example"}, "role": {"manager"}, "lang": {"de"}}, "invite-role-error"},
		{url.Values{"email": {"customer@alpha.example"}, "role": {"technician"}, "lang": {"de"}}, "invite-email-error"},
		{url.Values{"email": {"admin@msp.example"}, "role": {"technician"}, "lang": {"de"}}, "invite-email-error"},
		{url.Values{"email": {"tech@msp.example"}, "role": {"admin"}, "lang": {"de"}}, "invite-role-error"},
	} {
		resp, body := e.post("/staff/people/invite", c.form, nil)
		if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=`+c.field+`]`).Length() != 1 {
			t.Errorf("%v: %d", c.form, resp.StatusCode)
		}
	}
	if u, _ := e.db.UserByEmail(ctx, "customer@alpha.example"); u.StaffRole != "" {
		t.Fatal("customer became staff")
	}
	resp, _ := e.post("/staff/people/invite", url.Values{"email": {"neu@msp.example"}, "name": {"Nele"}, "role": {"technician"}, "lang": {"en"}, "org": {"alpha"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("staff invite: %d", resp.StatusCode)
	}
	m := e.lastMailTo("neu@msp.example")
	if !strings.Contains(m.Text, "Ada Admin") || !strings.Contains(m.Text, "Technician") || !strings.HasPrefix(linkIn(t, m), "/invite/") {
		t.Errorf("staff invitation mail:\n%s", m.Text)
	}
	invs := peopleInvitations(e, 0)
	if len(invs) != 1 || invs[0].Role != "technician" || len(peopleInvitations(e, a.ID)) != 0 {
		t.Fatalf("staff invitations: %+v", invs)
	}
	// Staff only once the invitation is accepted.
	if u, _ := e.db.UserByEmail(ctx, "neu@msp.example"); u.StaffRole != "" {
		t.Fatalf("invitee role %q before accepting", u.StaffRole)
	}
	if peopleAuditCount(e, 0, "invite.create") != 1 {
		t.Errorf("no audit entry")
	}
	// Staff invitations are managed here, not through an organisation's routes.
	if resp, _ := e.post("/o/alpha/invitations/"+id64(invs[0].ID)+"/revoke", nil, nil); resp.StatusCode != 404 {
		t.Errorf("staff invitation revoked through an organisation: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/staff/invitations/"+id64(invs[0].ID)+"/resend", nil, nil); resp.StatusCode != 303 {
		t.Errorf("staff resend: %d", resp.StatusCode)
	}
	if peopleInvitationOfLink(e, linkIn(t, m)).Status != db.InviteRevoked {
		t.Errorf("old staff link alive")
	}

	// Disable: not oneself; a technician, yes, and their session ends.
	resp, _ = e.post("/staff/people/"+id64(ada.ID)+"/disable", nil, nil)
	if u, _ := e.db.UserByID(ctx, ada.ID); resp.StatusCode != 422 || u.Disabled {
		t.Fatalf("self disable: %d", resp.StatusCode)
	}
	resp, _ = e.post("/staff/people/"+id64(tech.ID)+"/disable", nil, nil)
	if u, _ := e.db.UserByID(ctx, tech.ID); resp.StatusCode != 303 || !u.Disabled {
		t.Fatalf("disable technician: %d", resp.StatusCode)
	}
	peopleUse(e, theo)
	if resp, _ := e.get("/staff", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("disabled technician's next request: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	peopleSignIn(e, "admin@msp.example")
	resp, _ = e.post("/staff/people/"+id64(tech.ID)+"/enable", nil, nil)
	if u, _ := e.db.UserByID(ctx, tech.ID); resp.StatusCode != 303 || u.Disabled {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	// Customers are not managed here.
	cust, _ := e.db.UserByEmail(ctx, "customer@alpha.example")
	if resp, _ := e.post("/staff/people/"+id64(cust.ID)+"/disable", nil, nil); resp.StatusCode != 404 {
		t.Errorf("customer through the staff route: %d", resp.StatusCode)
	}
	if peopleAuditCount(e, 0, "user.disable") != 1 || peopleAuditCount(e, 0, "user.enable") != 1 {
		t.Errorf("audit entries missing")
	}
}

func TestLastAdminCannotBeDisabled(t *testing.T) {
	e := newTestEnv(t)
	ada := e.createUser("admin@msp.example", "Ada", "admin", nil)
	bob := e.createUser("bob@msp.example", "Bob", "admin", nil)
	ctx := context.Background()

	peopleSignIn(e, "admin@msp.example")
	resp, _ := e.post("/staff/people/"+id64(bob.ID)+"/disable", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("disable second admin: %d", resp.StatusCode)
	}
	// Ada is now the last enabled administrator: no one can disable her, not even through a race
	// past the page's checks (the condition is part of the UPDATE).
	if err := e.db.DisableUnlessLastAdmin(ctx, ada.ID); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("last admin disabled: %v", err)
	}
	if u, _ := e.db.UserByID(ctx, ada.ID); u.Disabled {
		t.Fatal("last admin is disabled")
	}
	if n, _ := e.db.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins", n)
	}
	_, body := e.get("/staff/people", nil)
	if doc(t, body).Find(`[data-testid=disable-`+id64(ada.ID)+`]`).Length() != 0 {
		t.Errorf("disable offered for the last admin")
	}
	resp, _ = e.post("/staff/people/"+id64(ada.ID)+"/disable", nil, nil)
	if resp.StatusCode != 422 {
		t.Errorf("self disable: %d", resp.StatusCode)
	}
	// With Bob enabled again, one of them may be disabled.
	e.post("/staff/people/"+id64(bob.ID)+"/enable", nil, nil)
	if err := e.db.DisableUnlessLastAdmin(ctx, bob.ID); err != nil {
		t.Fatalf("disable one of two admins: %v", err)
	}
	if err := e.db.DisableUnlessLastAdmin(ctx, 99999); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown person: %v", err)
	}
}

// The attack of the trust review, through the real router: the manager of Alpha invites the manager of
// Beta, then resets Beta's manager's second factors (which ends their sessions) so that anyone holding
// that password could enrol a factor of their own and read Beta's documentation.
func TestManagerCannotTakeOverAnotherOrganisationsPerson(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	bea := e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)

	beaJar := peopleSignIn(e, bea.Email)
	mara := peopleSignIn(e, "mara@alpha.example")
	resp, _ := e.post("/o/alpha/people/invite", url.Values{"email": {bea.Email}, "role": {"manager"}, "lang": {"en"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	// Not a member of Alpha until Bea accepts.
	if _, err := e.db.MemberRole(ctx, bea.ID, a.ID); err == nil {
		t.Fatal("the invitation made Bea a member of Alpha")
	}
	_, body := e.get("/o/alpha/people", nil)
	d := doc(t, body)
	if d.Find(`[data-testid=member-`+id64(bea.ID)+`]`).Length() != 0 || strings.Contains(body, "Bea") {
		t.Error("Bea is listed (or named) on Alpha's people page")
	}
	// No reset, no disabling, no role change of Bea through Alpha.
	for _, p := range []string{"/mfa-reset", "/disable", "/role"} {
		resp, _ := e.post("/o/alpha/people/"+id64(bea.ID)+p, url.Values{"role": {"viewer"}, "next": {"/o/alpha/people"}}, nil)
		if resp.StatusCode != 404 {
			t.Errorf("%s on Beta's manager: %d, want 404", p, resp.StatusCode)
		}
	}
	if n, _ := e.db.CountMFAMethods(ctx, bea.ID); n == 0 {
		t.Fatal("Bea's second factors were reset by Alpha's manager")
	}
	// Revoking leaves Bea as she was.
	inv := peopleInvitations(e, a.ID)[0]
	if resp, _ := e.post("/o/alpha/invitations/"+id64(inv.ID)+"/revoke", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if role, err := e.db.MemberRole(ctx, bea.ID, b.ID); err != nil || role != "manager" {
		t.Fatalf("Bea in Beta: %q %v", role, err)
	}
	peopleUse(e, beaJar)
	if resp, _ := e.get("/o/beta", nil); resp.StatusCode != 200 {
		t.Fatalf("Bea's session ended: %d", resp.StatusCode)
	}

	// Bea accepts a new invitation herself: now she is a member of Alpha too, but her account is shared
	// with Beta, which Mara does not manage.
	peopleUse(e, mara)
	e.post("/o/alpha/people/invite", url.Values{"email": {bea.Email}, "role": {"viewer"}, "lang": {"en"}}, nil)
	link := linkIn(t, e.lastMailTo(bea.Email))
	peopleUse(e, beaJar)
	if resp, _ := e.post(link, url.Values{"existing": {"1"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("Bea accepts: %d", resp.StatusCode)
	}
	if role, err := e.db.MemberRole(ctx, bea.ID, a.ID); err != nil || role != "viewer" {
		t.Fatalf("accepted, but Bea in Alpha: %q %v", role, err)
	}
	peopleUse(e, mara)
	_, body = e.get("/o/alpha/people", nil)
	d = doc(t, body)
	if d.Find(`[data-testid=member-`+id64(bea.ID)+`]`).Length() != 1 {
		t.Fatal("Bea not listed after accepting")
	}
	if d.Find(`form[action="/o/alpha/people/`+id64(bea.ID)+`/mfa-reset"]`).Length() != 0 ||
		d.Find(`[data-testid=disable-`+id64(bea.ID)+`]`).Length() != 0 {
		t.Error("Alpha's manager is offered actions on an account Beta shares")
	}
	for _, p := range []string{"/mfa-reset", "/disable"} {
		resp, _ := e.post("/o/alpha/people/"+id64(bea.ID)+p, url.Values{"next": {"/o/alpha/people"}}, nil)
		if resp.StatusCode != 422 {
			t.Errorf("%s on a person of two organisations: %d, want 422", p, resp.StatusCode)
		}
	}
	if n, _ := e.db.CountMFAMethods(ctx, bea.ID); n == 0 {
		t.Fatal("Bea's second factors were reset by Alpha's manager")
	}
	if u, _ := e.db.UserByID(ctx, bea.ID); u.Disabled {
		t.Fatal("Bea disabled by Alpha's manager")
	}
	// The role in Alpha is Alpha's business.
	if resp, _ := e.post("/o/alpha/people/"+id64(bea.ID)+"/role", url.Values{"role": {"manager"}}, nil); resp.StatusCode != 303 {
		t.Errorf("role in Alpha: %d", resp.StatusCode)
	}
	// MSP staff may act on the account.
	peopleSignIn(e, "theo@msp.example")
	if resp, _ := e.post("/o/alpha/people/"+id64(bea.ID)+"/mfa-reset", url.Values{"next": {"/o/alpha/people"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("staff reset: %d", resp.StatusCode)
	}
	if n, _ := e.db.CountMFAMethods(ctx, bea.ID); n != 0 {
		t.Fatal("staff reset left factors")
	}
}

// The people pages offer "reset second factors" where the viewer may use it, and the form works.
func TestPeoplePagesOfferSecondFactorReset(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	mgr := e.createUser("mgr@muster.example", "Mia Manager", "", map[int64]string{o.ID: "manager"})
	vera := e.createUser("vera@muster.example", "Vera Viewer", "", map[int64]string{o.ID: "viewer"})
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tech@msp.example", "Toni Technik", "technician", nil)

	e.login(mgr.Email, testPassword)
	_, body := e.get("/o/muster/people", nil)
	d := doc(t, body)
	action := fmt.Sprintf("/o/muster/people/%d/mfa-reset", vera.ID)
	if d.Find(`form[action="`+action+`"]`).Length() != 1 {
		t.Fatalf("manager's people page lacks the reset form for a member")
	}
	if d.Find(fmt.Sprintf(`form[action="/o/muster/people/%d/mfa-reset"]`, mgr.ID)).Length() != 0 {
		t.Fatalf("reset offered for oneself")
	}
	resp, _ := e.post(action, url.Values{"next": {"/o/muster/people"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if n, _ := e.db.CountMFAMethods(context.Background(), vera.ID); n != 0 {
		t.Fatalf("methods left after reset: %d", n)
	}

	e.newClient()
	e.login(tech.Email, testPassword)
	_, body = e.get("/staff/people", nil)
	d = doc(t, body)
	if d.Find(fmt.Sprintf(`form[action="/staff/users/%d/mfa-reset"]`, admin.ID)).Length() != 0 {
		t.Fatalf("technician offered to reset an administrator")
	}
	e.newClient()
	e.login(admin.Email, testPassword)
	_, body = e.get("/staff/people", nil)
	if doc(t, body).Find(fmt.Sprintf(`form[action="/staff/users/%d/mfa-reset"]`, tech.ID)).Length() != 1 {
		t.Fatalf("administrator not offered to reset a technician")
	}
}

// Staff reset a person's second factors: everything is gone, the sessions end, the person gets a mail,
// it is audited, and the next sign-in asks for enrolment.
func TestStaffResetForcesEnrolment(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	admin := e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tom@msp.example", "Tom Tech", "technician", nil)
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.db.W.Exec(`INSERT INTO recovery_codes(user_id, code_hash, created_at) VALUES (?, x'00', 0)`, anna.ID)
	e.login(anna.Email, testPassword)
	annaJar := e.client.Jar

	e.newClient()
	e.login(tech.Email, testPassword)
	// A technician cannot reset an administrator, and nobody resets themselves here.
	resp, _ := e.post("/staff/users/"+itoa64(admin.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "technician resets admin", resp, "", 404)
	resp, _ = e.post("/staff/users/"+itoa64(tech.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "reset oneself", resp, "", 422)
	resp, _ = e.post("/staff/users/"+itoa64(anna.ID)+"/mfa-reset", url.Values{"next": {"/staff/people"}}, nil)
	mustRedirect(t, "reset", resp, "/staff/people")

	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, anna.ID) +
		countRows(t, e, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, anna.ID); n != 0 {
		t.Fatalf("factors left after the reset: %d", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, anna.ID); n != 0 {
		t.Fatalf("sessions survived the reset")
	}
	if m := e.lastMailTo(anna.Email); !strings.Contains(m.Text, "Tom Tech") || !strings.Contains(m.Subject, "reset") {
		t.Fatalf("mail: %q\n%s", m.Subject, m.Text)
	}
	var target string
	e.db.R.QueryRow(`SELECT target FROM audit WHERE action = 'mfa.reset' AND actor_id = ?`, tech.ID).Scan(&target)
	if target != anna.Email {
		t.Fatalf("audit target %q", target)
	}
	// Anna's old session is gone; her next sign-in leads to enrolment.
	e.client.Jar = annaJar
	resp, _ = e.get("/orgs", nil)
	if !strings.HasPrefix(location(resp), "/login") {
		t.Fatalf("old session still works: %q", location(resp))
	}
	if loc := e.loginPassword(anna.Email, testPassword); loc != "/mfa/setup" {
		t.Fatalf("after the reset: %q", loc)
	}
}

// An organisation's manager resets members of that organisation only — never staff, never people of
// another organisation; viewers cannot.
func TestManagerResetOnlyForOwnMembers(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	p := e.createOrg("Andere AG", "andere")
	mia := e.createUser("mia@muster.example", "Mia Manager", "", map[int64]string{o.ID: "manager"})
	vic := e.createUser("vic@muster.example", "Vic Viewer", "", map[int64]string{o.ID: "viewer"})
	olaf := e.createUser("olaf@andere.example", "Olaf", "", map[int64]string{p.ID: "viewer"})
	staff := e.createUser("ada@msp.example", "Ada", "admin", nil)
	e.login(mia.Email, testPassword)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/o/muster/people/" + itoa64(olaf.ID) + "/mfa-reset", 404},  // another organisation's person
		{"/o/andere/people/" + itoa64(olaf.ID) + "/mfa-reset", 404},  // another organisation
		{"/o/muster/people/" + itoa64(staff.ID) + "/mfa-reset", 404}, // staff
		{"/o/muster/people/" + itoa64(vic.ID) + "/mfa-reset", 303},
	} {
		resp, _ := e.post(c.path, nil, nil)
		mustStatus(t, c.path, resp, "", c.status)
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, vic.ID); n != 0 {
		t.Fatalf("member not reset")
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id IN (?, ?)`, olaf.ID, staff.ID); n != 2 {
		t.Fatalf("others touched")
	}
	var org int64
	e.db.R.QueryRow(`SELECT org_id FROM audit WHERE action = 'mfa.reset'`).Scan(&org)
	if org != o.ID {
		t.Errorf("reset not in the organisation's log")
	}
	// A viewer cannot reset anyone.
	e.newClient()
	w := e.createUser("wim@muster.example", "Wim", "", map[int64]string{o.ID: "viewer"})
	x := e.createUser("xia@muster.example", "Xia", "", map[int64]string{o.ID: "viewer"})
	e.login(w.Email, testPassword)
	resp, _ := e.post("/o/muster/people/"+itoa64(x.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "viewer resets", resp, "", 404)
}
