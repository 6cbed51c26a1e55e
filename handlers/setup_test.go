package handlers

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFirstAdminSetupLink(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	link, err := e.srv.accounts.FirstAdminLink(ctx)
	if err != nil || !strings.HasPrefix(link, e.ts.URL+"/setup/") {
		t.Fatalf("link %q %v", link, err)
	}
	path := strings.TrimPrefix(link, e.ts.URL)
	// A second start replaces the link.
	link2, _ := e.srv.accounts.FirstAdminLink(ctx)
	if resp, _ := e.get(path, nil); resp.StatusCode != 410 {
		t.Fatalf("replaced link: %d", resp.StatusCode)
	}
	path = strings.TrimPrefix(link2, e.ts.URL)
	resp, body := e.get(path, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || doc(t, body).Find(`#setup-email[autocomplete=username]`).Length() != 1 {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}
	resp, _ = e.post(path, url.Values{"email": {"not an address"}, "name": {"Ada"}}, nil)
	if resp.StatusCode != 422 {
		t.Fatalf("bad address: %d", resp.StatusCode)
	}
	if n, _ := e.db.CountAdmins(ctx); n != 0 {
		t.Fatal("bad input created something")
	}
	resp, _ = e.post(path, url.Values{"email": {"ada@msp.example"}, "name": {"Ada Admin"}, "lang": {"de"}}, nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/invite/") {
		t.Fatalf("create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The link is used up; the invitation page takes over (and the mail went out as for any invitation).
	if resp, _ := e.get(path, nil); resp.StatusCode != 410 {
		t.Fatalf("used link: %d", resp.StatusCode)
	}
	e.lastMailTo("ada@msp.example")
	_, body = e.get(resp.Header.Get("Location"), nil)
	if !strings.Contains(body, "ada@msp.example") {
		t.Fatal("invitation page does not show the address")
	}
	// Once an administrator exists there is no setup link.
	e.createUser("boss@msp.example", "Boss", "admin", nil)
	if link, _ := e.srv.accounts.FirstAdminLink(ctx); link != "" {
		t.Fatalf("setup link with an administrator: %q", link)
	}
}

func TestFirstAdminSetupLinkExpires(t *testing.T) {
	e := newTestEnv(t)
	link, _ := e.srv.accounts.FirstAdminLink(context.Background())
	e.clock.Advance(25 * time.Hour)
	if resp, _ := e.get(strings.TrimPrefix(link, e.ts.URL), nil); resp.StatusCode != 410 {
		t.Fatalf("expired link: %d", resp.StatusCode)
	}
}
