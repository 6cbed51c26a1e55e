package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoginAndLogout(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("anna@muster.example", "Anna Muster", "", map[int64]string{o.ID: "viewer"})
	resp, body := e.get("/login", map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`input[name=email][autocomplete=username]`).Length() != 1 ||
		d.Find(`input[name=password][autocomplete=current-password]`).Length() != 1 {
		t.Fatalf("login form: %d", resp.StatusCode)
	}
	resp, _ = e.post("/login", url.Values{"email": {"ANNA@muster.example "}, "password": {testPassword}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.passSecondFactor()
	if resp, _ = e.get("/mfa", nil); resp.Header.Get("Location") != "/o/muster" {
		t.Fatalf("after the second factor: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d listed sessions", n)
	}
	resp, _ = e.post("/logout", nil, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("session still listed after logout")
	}
	resp, _ = e.get("/orgs", nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("signed-out /orgs: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLoginFailuresLookTheSame(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("anna@muster.example", "Anna", "", nil)
	_, wrongPw := e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {"falsch"}}, map[string]string{"Accept-Language": "en"})
	_, unknown := e.post("/login", url.Values{"email": {"nobody@muster.example"}, "password": {"falsch"}}, map[string]string{"Accept-Language": "en"})
	msg := func(b string) string { return doc(t, b).Find(`[data-testid="alert-error"]`).Text() }
	if msg(wrongPw) == "" || msg(wrongPw) != msg(unknown) {
		t.Fatalf("messages differ: %q vs %q", msg(wrongPw), msg(unknown))
	}
}

func TestAccountLockSurvivesRestartAndCorrectPasswordDoesNotUnlock(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("anna@muster.example", "Anna", "", nil)
	for i := 0; i < 10; i++ {
		e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {"falsch"}}, nil)
	}
	resp, _ := e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {testPassword}}, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("correct password during lock: %d", resp.StatusCode)
	}
	// A new server on the same database file (a restart) still knows the lock.
	s2, err := newServer(e.tc, e.db, e.srv.i18n, e.srv.assets)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	e.ts.Config.Handler = s2.Handler()
	resp, _ = e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {testPassword}}, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("lock forgotten after restart: %d", resp.StatusCode)
	}
	e.clock.Advance(61 * time.Second)
	resp, _ = e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {testPassword}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("lock did not end after a minute: %d", resp.StatusCode)
	}
}

func TestIPThrottle(t *testing.T) {
	e := newTestEnv(t)
	for i := 0; i < 30; i++ {
		e.post("/login", url.Values{"email": {"x" + string(rune('a'+i%26)) + "@example.com"}, "password": {"x"}}, nil)
	}
	resp, body := e.post("/login", url.Values{"email": {"y@example.com"}, "password": {"x"}}, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many attempts") {
		t.Fatalf("31st failure: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(11 * time.Minute)
	resp, _ = e.post("/login", url.Values{"email": {"y@example.com"}, "password": {"x"}}, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("throttle did not end: %d", resp.StatusCode)
	}
}

func TestNextOnlySameSite(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	// The second factor comes between the password and the page asked for.
	e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {testPassword}, "next": {"https://elsewhere.example/x"}}, nil)
	e.passSecondFactor()
	resp, _ := e.get("/mfa", nil)
	if loc := resp.Header.Get("Location"); loc != "/o/muster" {
		t.Fatalf("followed foreign next: %q", loc)
	}
	e.newClient()
	e.post("/login", url.Values{"email": {"anna@muster.example"}, "password": {testPassword}, "next": {"/orgs"}}, nil)
	e.passSecondFactor()
	resp, _ = e.get("/mfa", nil)
	if loc := resp.Header.Get("Location"); loc != "/orgs" {
		t.Fatalf("same-site next ignored: %q", loc)
	}
}
