package handlers

import (
	"context"
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
