package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// Without a mail server, MSP staff who invite (on the staff page or an organisation's) or re-send an
// invitation are shown the link to pass on, and it works; a customer's manager is told that the mail
// could not be sent and whom to ask, and is never shown a link. With a mail server nobody sees a link.
func TestInviteWithoutMailServerShowsTheLinkToStaffOnly(t *testing.T) {
	e := newTestEnv(t, withoutMailServer)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	e.createUser("chefin@muster.example", "Chefin", "", map[int64]string{o.ID: "manager"})

	e.login("admin@muster-it.example", testPassword)
	for _, c := range []struct{ path, email, role string }{
		{"/staff/people/invite", "neu@muster-it.example", "technician"},
		{"/o/muster/people/invite", "kunde@muster.example", "viewer"},
	} {
		resp, body := e.post(c.path, url.Values{"email": {c.email}, "name": {"Neu"}, "role": {c.role}, "lang": {"en"}}, en2(nil))
		mustStatus(t, c.path, resp, body, 200)
		link, ok := doc(t, body).Find(`[data-testid=invite-link]`).Attr("value")
		if !ok || !strings.Contains(textOf(t, body, `[data-testid=invite-no-mail]`), c.email) {
			t.Fatalf("%s: no link shown", c.path)
		}
		if !strings.HasPrefix(link, e.srv.cfg.BaseURL.String()+"/invite/") {
			t.Fatalf("%s: link %q", c.path, link)
		}
		u, _ := url.Parse(link)
		staff := e.client.Jar
		e.newClient()
		if resp, body := e.get(u.Path, en2(nil)); resp.StatusCode != 200 || !strings.Contains(body, c.email) {
			t.Fatalf("%s: the link shown does not open the invitation: %d", c.path, resp.StatusCode)
		}
		e.client.Jar = staff
	}
	// Re-sending shows the new link.
	var invID string
	e.db.R.QueryRow(`SELECT i.id FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = 'kunde@muster.example'`).Scan(&invID)
	resp, body := e.post("/o/muster/invitations/"+invID+"/resend", nil, en2(nil))
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=invite-link]`).Length() != 1 {
		t.Fatalf("resend: %d, link shown %d", resp.StatusCode, doc(t, body).Find(`[data-testid=invite-link]`).Length())
	}

	e.newClient()
	e.login("chefin@muster.example", testPassword)
	resp, body = e.post("/o/muster/people/invite", url.Values{"email": {"kollege@muster.example"}, "name": {"Kollege"}, "role": {"viewer"}, "lang": {"de"}}, en2(nil))
	mustStatus(t, "manager invites", resp, body, 200)
	msg := textOf(t, body, `[data-testid=invite-no-mail]`)
	if doc(t, body).Find(`[data-testid=invite-link]`).Length() != 0 || strings.Contains(body, "/invite/") {
		t.Fatal("a customer's manager was shown an invitation link")
	}
	if !strings.Contains(msg, "cannot send e-mail") || !strings.Contains(msg, "support@muster-it.example") || !strings.Contains(msg, "kollege@muster.example") {
		t.Fatalf("manager's message: %q", msg)
	}
	// In German, too.
	e.db.W.Exec(`UPDATE users SET lang = 'de' WHERE email = 'chefin@muster.example'`)
	resp, body = e.post("/o/muster/people/invite", url.Values{"email": {"kollege@muster.example"}, "name": {"Kollege"}, "role": {"viewer"}, "lang": {"de"}}, map[string]string{"Accept-Language": "de"})
	if msg := textOf(t, body, `[data-testid=invite-no-mail]`); resp.StatusCode != 200 || !strings.Contains(msg, "keine E-Mails versenden") {
		t.Fatalf("manager's message in German: %d %q", resp.StatusCode, msg)
	}

	// With a mail server: the usual redirect, no link on any page.
	withServer := newTestEnv(t)
	withServer.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	withServer.login("admin@muster-it.example", testPassword)
	resp, _ = withServer.post("/staff/people/invite", url.Values{"email": {"neu@muster-it.example"}, "role": {"technician"}, "lang": {"en"}}, nil)
	mustRedirect(t, "invite with a mail server", resp, "/staff/people")
	if _, body := withServer.get("/staff/people", nil); strings.Contains(body, "/invite/") {
		t.Fatal("link shown although a mail server is set")
	}
}
