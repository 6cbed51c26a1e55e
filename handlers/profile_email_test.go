package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
)

func TestEmailChangeFlow(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(u.Email, testPassword)
	const next = "anna.neu@muster.example"

	for _, c := range []struct {
		name, email, pw, testid, want string
	}{
		{"invalid", "anna-at-muster", testPassword, "email-new-error", "valid e-mail"},
		{"display name", "Anna <anna2@muster.example>", testPassword, "email-new-error", "valid e-mail"},
		{"too long", strings.Repeat("a", 250) + "@x.example", testPassword, "email-new-error", "valid e-mail"},
		{"same", "ANNA@muster.example", testPassword, "email-new-error", "already your"},
		{"wrong password", next, "falsch", "email-password-error", "not correct"},
		{"no password", next, "", "email-password-error", "current password"},
	} {
		resp, body := e.post("/profile/email", url.Values{"email": {c.email}, "current_password": {c.pw}}, profEN)
		if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, c.testid), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, c.testid))
		}
		if got := e.profUser(u.ID); got.PendingEmail != "" || got.Email != u.Email {
			t.Fatalf("%s: stored %+v", c.name, got)
		}
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails after failures", n)
	}

	resp, _ := e.post("/profile/email", url.Values{"email": {" Anna.Neu@muster.example "}, "current_password": {testPassword}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if got := e.profUser(u.ID); got.PendingEmail != next || got.Email != u.Email {
		t.Fatalf("pending %+v", got)
	}
	_, body := e.get("/profile", profEN)
	if !strings.Contains(profErr(t, body, "email-pending"), next) || doc(t, body).Find(`[data-testid=email-resend]`).Length() != 1 ||
		doc(t, body).Find(`[data-testid=email-cancel]`).Length() != 1 {
		t.Fatalf("pending address not shown")
	}
	// The old address is told, without a link.
	notice := e.lastMailTo(u.Email)
	if !strings.Contains(notice.Text, next) || linkRE.MatchString(notice.Text) {
		t.Fatalf("notice:\n%s", notice.Text)
	}
	link := linkIn(t, e.lastMailTo(next))

	// Until confirmed, the old address signs in and the new one does not.
	mine := e.client.Jar
	e.newClient()
	e.login(u.Email, testPassword)
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {next}, "password": {testPassword}}, nil); resp.StatusCode == 303 {
		t.Fatal("unconfirmed address signed in")
	}
	e.client.Jar = mine

	resp, body = e.confirmAddress(t, link, profEN)
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=confirm-done]`).Length() != 1 {
		t.Fatalf("confirm: %d %.300s", resp.StatusCode, body)
	}
	if got := e.profUser(u.ID); got.Email != next || got.PendingEmail != "" {
		t.Fatalf("after confirm %+v", got)
	}
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Fatalf("old address after confirm: %d", resp.StatusCode)
	}
	e.login(next, testPassword)
}

func TestEmailChangeCancel(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(u.Email, testPassword)
	e.post("/profile/email", url.Values{"email": {"neu@muster.example"}, "current_password": {testPassword}}, nil)
	link := linkIn(t, e.lastMailTo("neu@muster.example"))
	resp, _ := e.post("/profile/email/cancel", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if got := e.profUser(u.ID); got.PendingEmail != "" {
		t.Fatalf("still pending %q", got.PendingEmail)
	}
	// The link in the mailbox no longer switches the address.
	resp, _ = e.get(link, nil)
	if resp.StatusCode != 410 || e.profUser(u.ID).Email != u.Email {
		t.Fatalf("cancelled link: %d", resp.StatusCode)
	}

	// Asking for another address kills the link sent for the previous one.
	e.clock.Advance(2 * time.Minute)
	e.post("/profile/email", url.Values{"email": {"erst@muster.example"}, "current_password": {testPassword}}, nil)
	first := linkIn(t, e.lastMailTo("erst@muster.example"))
	e.clock.Advance(2 * time.Minute)
	e.post("/profile/email", url.Values{"email": {"zweit@muster.example"}, "current_password": {testPassword}}, nil)
	if resp, _ := e.get(first, nil); resp.StatusCode != 410 || e.profUser(u.ID).Email != u.Email {
		t.Fatalf("link for the earlier address: %d", resp.StatusCode)
	}
	if resp, _ := e.confirmAddress(t, linkIn(t, e.lastMailTo("zweit@muster.example")), nil); resp.StatusCode != 200 || e.profUser(u.ID).Email != "zweit@muster.example" {
		t.Fatalf("link for the later address: %d", resp.StatusCode)
	}
}

func TestEmailChangeToTakenAddressLooksLikeSuccess(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.createUser("bert@muster.example", "Bert", "", nil)
	e.login(u.Email, testPassword)

	e.post("/profile/email", url.Values{"email": {"frei@muster.example"}, "current_password": {testPassword}}, profEN)
	_, free := e.get("/profile", profEN)
	e.post("/profile/email/cancel", nil, nil)
	e.get("/profile", profEN) // consume the flash
	before := len(e.mails())
	e.clock.Advance(2 * time.Minute) // past the mail cooldown, so a mail would go out if one were due

	resp, _ := e.post("/profile/email", url.Values{"email": {"Bert@muster.example"}, "current_password": {testPassword}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("taken: %d", resp.StatusCode)
	}
	_, taken := e.get("/profile", profEN)
	if a, b := profErr(t, free, "alert-success"), profErr(t, taken, "alert-success"); a == "" || a != b {
		t.Fatalf("answers differ: %q vs %q", a, b)
	}
	// The owner of the taken address gets nothing, and no link could switch to it; the person's own
	// mailbox gets the notice a free address gets too (TestEmailChangeToTakenAddressLeavesTheSameTraces).
	for _, m := range e.mails()[before:] {
		if !strings.EqualFold(m.To, u.Email) {
			t.Errorf("mail queued to %s: %s", m.To, m.Subject)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM tokens WHERE user_id = ? AND purpose = ? AND email = 'bert@muster.example'`, u.ID, db.PurposeConfirm); n != 0 {
		t.Fatalf("%d confirmation links for the taken address", n)
	}
}
