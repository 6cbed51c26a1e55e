package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Signing in with an address that still waits for confirmation (and the right password) explains that and
// offers to send the confirmation again (seed 003); it does not sign in and does not reveal anything to
// someone without the password.
func TestSignInWithPendingAddressOffersResend(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("alt@muster.example", "Anna", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET pending_email = 'neu@muster.example' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := e.post("/login", url.Values{"email": {"neu@muster.example"}, "password": {testPassword}}, map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid="confirm-pending"]`).Length() != 1 || d.Find(`[data-testid="confirm-resend"]`).Length() != 1 {
		t.Fatalf("pending address sign-in: %d %.300s", resp.StatusCode, body)
	}
	if e.sessionToken() != "" {
		if r, _ := e.get("/orgs", nil); !strings.HasPrefix(location(r), "/login") {
			t.Fatal("signed in with an unconfirmed address")
		}
	}
	// Wrong password: the ordinary failure, nothing about the pending address.
	resp, body = e.post("/login", url.Values{"email": {"neu@muster.example"}, "password": {"falsch"}}, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 401 || strings.Contains(body, "confirm-pending") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	// Resend sends a confirmation link to the new address; the link switches the address.
	e.post("/confirm/resend", url.Values{"email": {"neu@muster.example"}}, nil)
	m := e.lastMailTo("neu@muster.example")
	resp, _ = e.confirmAddress(t, linkIn(t, m), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("confirm link: %d", resp.StatusCode)
	}
	got, _ := e.db.UserByID(context.Background(), u.ID)
	if got.Email != "neu@muster.example" || got.PendingEmail != "" {
		t.Fatalf("after confirming: %q pending %q", got.Email, got.PendingEmail)
	}
	// The same answer for an address nobody uses, and no mail.
	e.clock.Advance(2 * time.Minute)
	before := len(e.mails())
	resp, body = e.post("/confirm/resend", url.Values{"email": {"niemand@muster.example"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "confirm-pending") || len(e.mails()) != before {
		t.Fatalf("unknown address: %d, mails %d → %d", resp.StatusCode, before, len(e.mails()))
	}
}

// The confirmation link is its owner's authority, whoever's browser sends the button: the entry names the
// link's owner by id and by name. Before, the name was whoever was signed in on that browser (another
// person's name beside the owner's id) or empty when nobody was, and the log shows the name.
func TestConfirmationIsAuditedAsTheLinksOwner(t *testing.T) {
	for _, signedIn := range []bool{false, true} {
		e := newTestEnv(t)
		u, link := pendingAddressLink(t, e)
		if signedIn {
			b := e.createUser("bert@muster.example", "Bert", "", nil)
			e.login(b.Email, testPassword)
		}
		if resp, body := e.confirmAddress(t, link, nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm-done"`) {
			t.Fatalf("signed in %v: confirm: %d", signedIn, resp.StatusCode)
		}
		var id int64
		var name string
		if err := e.db.R.QueryRow(`SELECT actor_id, actor_name FROM audit WHERE action = 'email.confirmed'`).Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		if id != u.ID || name != "Anna" {
			t.Errorf("signed in as someone else %v: email.confirmed by %d %q, want %d \"Anna\"", signedIn, id, name, u.ID)
		}
	}
}

// A disabled account's confirmation link works no more than a revoked one, as its invitation and reset
// links do: the account must not change while it is switched off (a person leaving could otherwise move
// it to a private address before anyone enables it again). Before, the link switched the address.
func TestDisabledAccountsConfirmationLinkIsRevoked(t *testing.T) {
	e := newTestEnv(t)
	u, link := pendingAddressLink(t, e)
	if _, err := e.db.W.Exec(`UPDATE users SET disabled_at = 1 WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(link, nil)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, `data-testid="link-revoked"`) {
		t.Fatalf("the link of a disabled account: %d %.300s", resp.StatusCode, body)
	}
	resp, body = e.post(link, nil, nil)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, `data-testid="link-revoked"`) {
		t.Fatalf("the button of a disabled account's link: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE id = ? AND email = 'alt@muster.example' AND pending_email = 'neu@muster.example'`, u.ID); n != 1 {
		t.Fatal("a disabled account's address changed")
	}
}
