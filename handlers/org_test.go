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

func TestPersonInTwoOrganisationsSwitches(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createOrg("Gamma AG", "gamma")
	e.createUser("steuer@kanzlei.example", "Stefan Steuer", "", map[int64]string{a.ID: "viewer", b.ID: "manager"})
	peopleSignIn(e, "steuer@kanzlei.example")
	resp, body := e.get("/orgs", nil)
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=org-alpha]`).Length() != 1 || doc(t, body).Find(`[data-testid=org-gamma]`).Length() != 0 {
		t.Fatalf("organisation choice: %d", resp.StatusCode)
	}

	resp, body = e.get("/o/alpha", nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=switch-beta]`).Length() != 1 || d.Find(`[data-testid=nav-orgs]`).Length() != 1 {
		t.Fatalf("alpha: %d, switch offered: %d", resp.StatusCode, d.Find(`[data-testid=switch-beta]`).Length())
	}
	if d.Find(`[data-testid=switch-gamma]`).Length() != 0 {
		t.Fatalf("a foreign organisation is offered")
	}
	resp, _ = e.post("/orgs/switch", url.Values{"org": {"beta"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/o/beta" {
		t.Fatalf("switch: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = e.get("/o/beta", nil)
	d = doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=org-name]`).Text() != "Beta KG" ||
		!strings.Contains(d.Find(`[data-testid=org-role]`).Text(), "Manager") {
		t.Fatalf("beta: %d %q", resp.StatusCode, d.Find(`[data-testid=org-name]`).Text())
	}
	// The header names the organisation being looked at.
	if d.Find(`[data-testid=nav-org]`).Text() != "Beta KG" {
		t.Errorf("header organisation: %q", d.Find(`[data-testid=nav-org]`).Text())
	}
	// As manager of beta, but viewer of alpha: beta's people page opens, alpha's does not.
	if resp, _ := e.get("/o/beta/people", nil); resp.StatusCode != 200 {
		t.Errorf("beta people: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/o/alpha/people", nil); resp.StatusCode != 404 {
		t.Errorf("alpha people as viewer: %d", resp.StatusCode)
	}

	resp, _ = e.post("/orgs/switch", url.Values{"org": {"gamma"}}, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("switch to a foreign organisation: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/o/gamma", nil); resp.StatusCode != 404 {
		t.Fatalf("foreign organisation's home: %d", resp.StatusCode)
	}
}

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

func TestManagerInvitesInChosenLanguage(t *testing.T) {
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			e := newTestEnv(t)
			a := e.createOrg("Alpha GmbH", "alpha")
			e.createUser("manager@alpha.example", "Mara Manager", "", map[int64]string{a.ID: "manager"})
			peopleSignIn(e, "manager@alpha.example")
			resp, _ := e.post("/o/alpha/people/invite", url.Values{
				"email": {"Neu@Alpha.example"}, "name": {"Nina Neu"}, "role": {"manager"}, "lang": {lang},
			}, nil)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/o/alpha/people" {
				t.Fatalf("invite: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			m := e.lastMailTo("neu@alpha.example")
			l := e.srv.i18n.For(lang, "")
			if want := l.T("mail.invite.subject", "inviter", "Mara Manager", "msp", "Muster IT"); m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			wantBody := l.T("mail.invite.body", "inviter", "Mara Manager", "email", "neu@alpha.example", "org", "Alpha GmbH",
				"role", l.T("role.manager"), "msp", "Muster IT")
			for _, part := range []string{m.Text, m.HTML} {
				for _, want := range []string{"Nina Neu", "support@muster-it.example", "+49 30 1234567", "Muster IT", e.ts.URL + "/invite/"} {
					if !strings.Contains(part, want) {
						t.Errorf("mail lacks %q", want)
					}
				}
			}
			if !strings.Contains(m.Text, wantBody) {
				t.Errorf("mail text lacks who invited whom to what:\n%s", m.Text)
			}
			if link := linkIn(t, m); !strings.HasPrefix(link, "/invite/") {
				t.Errorf("link %q", link)
			}

			_, body := e.get("/o/alpha/people", nil)
			d := doc(t, body)
			if d.Find(`[data-testid=alert-success]`).Length() != 1 {
				t.Errorf("no confirmation shown")
			}
			invs := peopleInvitations(e, a.ID)
			if len(invs) != 1 || invs[0].Status != db.InvitePending || invs[0].Role != "manager" || invs[0].Lang != lang {
				t.Fatalf("invitations: %+v", invs)
			}
			row := d.Find(`[data-testid=invitation-` + id64(invs[0].ID) + `]`)
			if st, _ := row.Attr("data-status"); st != "pending" || row.Find(`[data-testid^=resend-]`).Length() != 1 {
				t.Errorf("invitation row: %q", row.Text())
			}
			// An invitation is not a membership until it is accepted.
			if d.Find(`[data-testid=member-`+id64(invs[0].UserID)+`]`).Length() != 0 {
				t.Errorf("the invitee is listed as a member before accepting")
			}
			if _, err := e.db.MemberRole(context.Background(), invs[0].UserID, a.ID); err == nil {
				t.Errorf("the invitee is a member before accepting")
			}
			if peopleAuditCount(e, a.ID, "invite.create") != 1 {
				t.Errorf("no audit entry for the invitation")
			}
		})
	}
}

func TestInviteValidationAndBodyCannotChooseOrgOrRole(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("tech@msp.example", "Theo", "technician", nil)
	peopleSignIn(e, "manager@alpha.example")

	cases := []struct {
		form  url.Values
		field string
	}{
		{url.Values{"email": {""}, "role": {"viewer"}, "lang": {"de"}}, "invite-email-error"},
		{url.Values{"email": {"not-an-address"}, "role": {"viewer"}, "lang": {"de"}}, "invite-email-error"},
		{url.Values{"email": {"Eve <eve@x.example>"}, "role": {"viewer"}, "lang": {"de"}}, "invite-email-error"},
		{url.Values{"email": {"ok@alpha.example"}, "role": {"admin"}, "lang": {"de"}}, "invite-role-error"},
		{url.Values{"email": {"ok@alpha.example"}, "role": {"viewer"}, "lang": {"fr"}}, "invite-lang-error"},
		{url.Values{"email": {"ok@alpha.example"}, "name": {strings.Repeat("n", 101)}, "role": {"viewer"}, "lang": {"de"}}, "invite-name-error"},
		{url.Values{"email": {"manager@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, "invite-email-error"},
	}
	for _, c := range cases {
		resp, body := e.post("/o/alpha/people/invite", c.form, nil)
		d := doc(t, body)
		if resp.StatusCode != 422 || d.Find(`[data-testid=`+c.field+`]`).Length() != 1 {
			t.Errorf("%v: %d, %s shown: %d", c.form, resp.StatusCode, c.field, d.Find(`[data-testid=`+c.field+`]`).Length())
		}
		// Each input points to its message (and only to it), with no stray attributes.
		if c.field == "invite-name-error" {
			if ref, _ := d.Find(`#invite-name`).Attr("aria-describedby"); ref != "invite-name-error" || d.Find(`input[else]`).Length() != 0 {
				t.Errorf("name field describedby %q", ref)
			}
		}
		if v, _ := d.Find(`#invite-email`).Attr("value"); v != strings.TrimSpace(c.form.Get("email")) {
			t.Errorf("form not refilled: %q", v)
		}
	}
	if len(peopleInvitations(e, a.ID)) != 0 || len(e.mails()) != 0 {
		t.Fatalf("an invalid invitation went through")
	}
	if u, _ := e.db.UserByEmail(context.Background(), "tech@msp.example"); u.StaffRole != "technician" {
		t.Fatalf("staff account changed")
	}

	// Organisation and role fields the route does not own are ignored.
	resp, _ := e.post("/o/alpha/people/invite", url.Values{
		"email": {"neu@alpha.example"}, "role": {"viewer"}, "lang": {"de"},
		"org": {"beta"}, "org_id": {id64(b.ID)}, "OrgID": {id64(b.ID)}, "staff_role": {"admin"},
	}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	if len(peopleInvitations(e, b.ID)) != 0 || len(peopleInvitations(e, a.ID)) != 1 {
		t.Fatalf("invitation went to the organisation in the body")
	}
	u, err := e.db.UserByEmail(context.Background(), "neu@alpha.example")
	if err != nil || u.StaffRole != "" {
		t.Fatalf("invitee: %v %+v", err, u)
	}
	if _, err := e.db.MemberRole(context.Background(), u.ID, b.ID); err == nil {
		t.Fatalf("invitee became a member of beta")
	}
}

func TestResendKillsOldLinkAndDuplicateInviteResends(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	peopleSignIn(e, "manager@alpha.example")
	form := url.Values{"email": {"neu@alpha.example"}, "role": {"viewer"}, "lang": {"en"}}
	e.post("/o/alpha/people/invite", form, nil)
	link1 := linkIn(t, e.lastMailTo("neu@alpha.example"))
	inv1 := peopleInvitationOfLink(e, link1)

	resp, _ := e.post("/o/alpha/invitations/"+id64(inv1.ID)+"/resend", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	link2 := linkIn(t, e.lastMailTo("neu@alpha.example"))
	if link2 == link1 {
		t.Fatalf("the same link was sent again")
	}
	if st := peopleInvitationOfLink(e, link1).Status; st != db.InviteRevoked {
		t.Fatalf("old link is %s", st)
	}
	if st := peopleInvitationOfLink(e, link2).Status; st != db.InvitePending {
		t.Fatalf("new link is %s", st)
	}
	// The old link's page says it was replaced (where the invitation page exists).
	e.newClient()
	if resp, body := e.get(link1, nil); resp.StatusCode != 404 {
		if doc(t, body).Find(`[data-testid=link-revoked]`).Length() != 1 {
			t.Errorf("old link page: %d\n%.300s", resp.StatusCode, body)
		}
	}
	peopleSignIn(e, "manager@alpha.example")
	if peopleAuditCount(e, a.ID, "invite.resend") != 1 {
		t.Errorf("no audit entry for the re-send")
	}
	// A revoked invitation cannot be re-sent.
	if resp, _ := e.post("/o/alpha/invitations/"+id64(inv1.ID)+"/resend", nil, nil); resp.StatusCode != 409 {
		t.Errorf("re-send of a revoked invitation: %d", resp.StatusCode)
	}

	// Inviting the same person again re-sends: one open invitation, the previous link dead.
	resp, _ = e.post("/o/alpha/people/invite", form, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("second invite: %d", resp.StatusCode)
	}
	link3 := linkIn(t, e.lastMailTo("neu@alpha.example"))
	if link3 == link2 || peopleInvitationOfLink(e, link2).Status != db.InviteRevoked {
		t.Fatalf("duplicate invitation did not replace the link")
	}
	open := 0
	for _, inv := range peopleInvitations(e, a.ID) {
		if inv.Status == db.InvitePending {
			open++
		}
	}
	if open != 1 {
		t.Fatalf("%d open invitations", open)
	}
	if peopleAuditCount(e, a.ID, "invite.resend") != 2 {
		t.Errorf("duplicate invitation not recorded as a re-send")
	}

	// An active member is not invited again.
	e.createUser("aktiv@alpha.example", "Aktiv", "", map[int64]string{a.ID: "viewer"})
	mails := len(e.mails())
	resp, _ = e.post("/o/alpha/people/invite", url.Values{"email": {"aktiv@alpha.example"}, "role": {"viewer"}, "lang": {"en"}}, nil)
	if resp.StatusCode != 303 || len(e.mails()) != mails {
		t.Fatalf("active member re-invited: %d, %d mails", resp.StatusCode, len(e.mails())-mails)
	}
}

func TestRevokeInvitation(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("manager@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	peopleSignIn(e, "manager@alpha.example")
	e.post("/o/alpha/people/invite", url.Values{"email": {"neu@alpha.example"}, "role": {"viewer"}, "lang": {"de"}}, nil)
	link := linkIn(t, e.lastMailTo("neu@alpha.example"))
	inv := peopleInvitationOfLink(e, link)
	resp, _ := e.post("/o/alpha/invitations/"+id64(inv.ID)+"/revoke", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if st := peopleInvitationOfLink(e, link).Status; st != db.InviteRevoked {
		t.Fatalf("status %s", st)
	}
	// The invitation never granted a membership, and the revoked link grants none.
	if _, err := e.db.MemberRole(context.Background(), inv.UserID, a.ID); err == nil {
		t.Errorf("a revoked invitation is a membership")
	}
	if peopleAuditCount(e, a.ID, "invite.revoke") != 1 {
		t.Errorf("no audit entry")
	}
	_, body := e.get("/o/alpha/people", nil)
	row := doc(t, body).Find(`[data-testid=invitation-` + id64(inv.ID) + `]`)
	if st, _ := row.Attr("data-status"); st != "revoked" || row.Find(`form`).Length() != 0 {
		t.Errorf("revoked row: %q with %d forms", st, row.Find(`form`).Length())
	}
	if resp, _ := e.post("/o/alpha/invitations/"+id64(inv.ID)+"/revoke", nil, nil); resp.StatusCode != 409 {
		t.Errorf("second revoke: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/o/alpha/invitations/999999/revoke", nil, nil); resp.StatusCode != 404 {
		t.Errorf("unknown invitation: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/o/alpha/invitations/abc/revoke", nil, nil); resp.StatusCode != 404 {
		t.Errorf("bad id: %d", resp.StatusCode)
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
