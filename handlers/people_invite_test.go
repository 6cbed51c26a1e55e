package handlers

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

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

// A customer's manager learns nothing from the invite form about who an address belongs to: MSP staff,
// another organisation and nobody get the same status, redirect, message and list row. Staff do not
// become customer members through it.
func TestInviteAnswersDoNotTellWhoAnAddressBelongsTo(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	staff := e.createUser("sam@msp.example", "Sam Staff", "admin", nil)
	other := e.createUser("olga@beta.example", "Olga Other", "", map[int64]string{b.ID: "viewer"})
	peopleSignIn(e, "mara@alpha.example")

	type answer struct {
		status        int
		location, msg string
		row           string
	}
	ask := func(addr string) answer {
		t.Helper()
		resp, body := e.post("/o/alpha/people/invite", url.Values{"email": {addr}, "name": {"Neu"}, "role": {"viewer"}, "lang": {"en"}}, nil)
		ans := answer{status: resp.StatusCode, location: resp.Header.Get("Location")}
		if resp.StatusCode != 303 {
			ans.msg = body
		}
		_, page := e.get("/o/alpha/people", map[string]string{"Accept-Language": "en"})
		d := doc(t, page)
		ans.msg += d.Find(`[data-testid=alert-success]`).Text() + d.Find(`[data-testid=alert-error]`).Text()
		for _, inv := range peopleInvitations(e, a.ID) {
			if inv.Email == addr {
				row := d.Find(`[data-testid=invitation-` + id64(inv.ID) + `]`)
				html, _ := row.Html()
				ans.row = strings.NewReplacer(addr, "ADDR", "/invitations/"+id64(inv.ID)+"/", "/invitations/ID/",
					"-"+id64(inv.ID)+`"`, `-ID"`).Replace(html)
			}
		}
		return ans
	}
	unknown := ask("nobody@gamma.example")
	if unknown.status != 303 || unknown.row == "" {
		t.Fatalf("unknown address: %+v", unknown)
	}
	for _, addr := range []string{staff.Email, other.Email} {
		if got := ask(addr); got != unknown {
			t.Errorf("%s answers differently from an unknown address:\n got %+v\nwant %+v", addr, got, unknown)
		}
	}
	for _, name := range []string{"Sam Staff", "Olga Other"} {
		if _, page := e.get("/o/alpha/people", nil); strings.Contains(page, name) {
			t.Errorf("%q shown to Alpha's manager", name)
		}
	}
	// Nothing was granted, and the staff member cannot accept a customer's invitation.
	if _, err := e.db.MemberRole(ctx, staff.ID, a.ID); err == nil {
		t.Fatal("staff member became a customer member")
	}
	link := linkIn(t, e.lastMailTo(staff.Email))
	e.newClient()
	if resp, _ := e.get(link, nil); resp.StatusCode != 410 {
		t.Errorf("staff member opens the customer's invitation: %d, want 410", resp.StatusCode)
	}
	if resp, _ := e.post(link, url.Values{"existing": {"1"}}, nil); resp.StatusCode != 410 {
		t.Errorf("staff member accepts the customer's invitation: %d, want 410", resp.StatusCode)
	}
	if _, err := e.db.MemberRole(ctx, staff.ID, a.ID); err == nil {
		t.Fatal("staff member became a customer member by accepting")
	}
	if u, _ := e.db.UserByID(ctx, staff.ID); u.StaffRole != "admin" || u.Name != "Sam Staff" {
		t.Fatalf("staff account changed: %+v", u)
	}
	if inv := peopleInvitationOfLink(e, link); inv.Status != db.InvitePending {
		t.Fatalf("invitation %s", inv.Status)
	}
}
