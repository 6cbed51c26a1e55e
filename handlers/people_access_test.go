package handlers

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"portier/db"
)

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

// Someone who has a password accepts each invitation through its own link: resetting the password does
// not accept, on their behalf, an invitation another organisation's manager sent them.
func TestResetDoesNotAcceptInvitationsOfSomeoneWithAPassword(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	bea := e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "manager"})
	peopleSignIn(e, "mara@alpha.example")
	e.post("/o/alpha/people/invite", url.Values{"email": {bea.Email}, "role": {"manager"}, "lang": {"en"}}, nil)

	e.newClient()
	e.forgot(bea.Email)
	link := lastResetLink(t, e, bea.Email)
	if resp, _ := e.post(link, pwValues("", goodPassword, goodPassword, false), nil); resp.StatusCode != 200 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if _, err := e.db.MemberRole(ctx, bea.ID, a.ID); err == nil {
		t.Fatal("the password reset accepted Alpha's invitation")
	}
	if inv := peopleInvitations(e, a.ID)[0]; inv.Status != db.InvitePending {
		t.Fatalf("invitation %s", inv.Status)
	}
}

// Accepting is consumed once under parallel requests: one answer accepts, the others find the link used,
// and the membership and its audit entry exist once.
func TestParallelAcceptsOfOneInvitation(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	bea := e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "manager"})
	link := e.invite(bea.Email, "", a.ID, "viewer", "en")
	e.newClient()

	const n = 20
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.URL(link), strings.NewReader("existing=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := e.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	accepted := 0
	for _, st := range statuses {
		switch st {
		case http.StatusSeeOther:
			accepted++
		case http.StatusGone:
		default:
			t.Errorf("status %d", st)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d parallel accepts succeeded, want 1", accepted)
	}
	if role, err := e.db.MemberRole(ctx, bea.ID, a.ID); err != nil || role != "viewer" {
		t.Fatalf("membership %q %v", role, err)
	}
	if got := peopleAuditCount(e, a.ID, "invite.accept"); got != 1 {
		t.Fatalf("%d audit entries", got)
	}
}
