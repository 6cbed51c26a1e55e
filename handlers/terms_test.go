package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func TestNewTermsVersionAskedAtNextSignIn(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	if _, err := e.db.PublishTerms(t.Context(), "Neue Bedingungen", "New terms", 0); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil)
	if loc := resp.Header.Get("Location"); loc != "/terms" {
		t.Fatalf("after new terms: %q", loc)
	}
	_, body := e.get("/terms", map[string]string{"Accept-Language": "en"})
	if !strings.Contains(body, "New terms") || doc(t, body).Find(`[data-testid="terms-accept"]`).Length() != 1 {
		t.Fatalf("terms page: %.300s", body)
	}
	// Nothing else is reachable before accepting.
	resp, _ = e.get("/orgs", nil)
	if resp.Header.Get("Location") != "/terms" {
		t.Fatalf("/orgs before accepting: %q", resp.Header.Get("Location"))
	}
	resp, _ = e.post("/terms", url.Values{"decision": {"accept"}, "version": {"2"}}, nil)
	if loc := resp.Header.Get("Location"); loc != "/mfa" {
		t.Fatalf("after accepting: %q", loc)
	}
	var ip string
	if err := e.db.R.QueryRow(`SELECT ip FROM terms_acceptances WHERE user_id = ? AND version = 2`, u.ID).Scan(&ip); err != nil || ip == "" {
		t.Fatalf("acceptance not recorded: %v", err)
	}
	// Declining signs out.
	e.db.PublishTerms(t.Context(), "V3", "V3", 0)
	e.newClient()
	e.login(u.Email, testPassword)
	resp, _ = e.post("/terms", url.Values{"decision": {"decline"}}, nil)
	if resp.Header.Get("Location") != "/login" {
		t.Fatalf("decline: %q", resp.Header.Get("Location"))
	}
	resp, _ = e.get("/orgs", nil)
	if !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("still signed in after declining")
	}
}
