package handlers

import (
	"context"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/signin"
)

func TestSessionsListAndEnd(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	loginUA := func(ua string) {
		resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, map[string]string{"User-Agent": ua})
		if resp.StatusCode != 303 {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		if resp.Header.Get("Location") == "/mfa" {
			e.passSecondFactor()
		}
	}
	const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
	const safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
	loginUA(firefox)
	phone := e.client.Jar
	e.newClient()
	loginUA(safari)
	third := e.client.Jar
	e.newClient()
	loginUA("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36")

	resp, body := e.get("/profile", profEN)
	if resp.StatusCode != 200 {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	d := doc(t, body)
	rows := d.Find(`[data-testid=session-row]`)
	if rows.Length() != 3 || d.Find(`[data-testid=session-row][data-current]`).Length() != 1 ||
		!strings.Contains(d.Find(`[data-testid=session-row][data-current]`).Text(), "Chrome on Linux") ||
		!strings.Contains(rows.Text(), "Firefox on Windows") || !strings.Contains(rows.Text(), "Safari on iOS") ||
		!strings.Contains(rows.Text(), "127.0.0.1") {
		t.Fatalf("session rows: %q", rows.Text())
	}
	// No token, and no stored hash of one, anywhere on the page.
	listed, err := e.db.UserSessions(context.Background(), u.ID)
	if err != nil || len(listed) != 3 {
		t.Fatalf("%d sessions: %v", len(listed), err)
	}
	for _, s := range listed {
		if strings.Contains(body, hex.EncodeToString(s.Hash)) {
			t.Fatal("a session's stored hash is in the page")
		}
	}
	if tok := e.sessionToken(); tok == "" || strings.Contains(body, tok) {
		t.Fatal("the session token is in the page")
	}

	// End the phone's session (the Safari one) by its identifier.
	var id string
	rows.Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "Safari on iOS") {
			id, _ = s.Find(`input[name=id]`).Attr("value")
		}
	})
	if len(id) != 16 {
		t.Fatalf("session id %q", id)
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {"0123456789abcdef"}}, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown id: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {id}}, nil); resp.StatusCode != 303 {
		t.Fatalf("end: %d", resp.StatusCode)
	}
	mine := e.profSwitch(third)
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 {
		t.Fatalf("ended session still works: %d", resp.StatusCode)
	}
	e.client.Jar = phone
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
		t.Fatalf("Firefox session ended too: %d", resp.StatusCode)
	}
	// Someone else's session identifier does nothing here.
	e.client.Jar = mine

	// Sign out everywhere else.
	if resp, _ := e.post("/profile/sessions/end-others", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("end others: %d", resp.StatusCode)
	}
	_, body = e.get("/profile", profEN)
	if doc(t, body).Find(`[data-testid=session-row]`).Length() != 1 || doc(t, body).Find(`[data-testid=sessions-only-this]`).Length() != 1 {
		t.Fatalf("after end-others")
	}
	e.client.Jar = phone
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 {
		t.Fatalf("other session survived end-others: %d", resp.StatusCode)
	}
}

func TestSessionEndCannotTouchAnotherPersonsSession(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("anna@muster.example", "Anna", "", nil)
	bert := e.createUser("bert@muster.example", "Bert", "", nil)
	e.login("bert@muster.example", testPassword)
	berts := e.client.Jar
	e.newClient()
	e.login("anna@muster.example", testPassword)
	ss, _ := e.db.UserSessions(context.Background(), bert.ID)
	if len(ss) != 1 {
		t.Fatalf("%d", len(ss))
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {signin.SessionID(ss[0].Hash)}}, nil); resp.StatusCode != 404 {
		t.Fatalf("ended another person's session: %d", resp.StatusCode)
	}
	e.client.Jar = berts
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
		t.Fatalf("Bert signed out: %d", resp.StatusCode)
	}
}
