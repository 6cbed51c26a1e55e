package handlers

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestPasswordChange(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna Muster", "", map[int64]string{o.ID: "viewer"})
	// Another browser of Anna.
	e.login(u.Email, testPassword)
	other := e.client.Jar
	e.newClient()
	e.login(u.Email, testPassword)
	this := e.client.Jar

	const newPw = "Neues-Kennwort#2027"
	before := e.profUser(u.ID)

	// Validation failures: 422, a message, nothing changed.
	for _, c := range []struct {
		name    string
		form    url.Values
		testid  string
		want    string
		failure bool
	}{
		{"wrong current", url.Values{"current_password": {"falsch"}, "new_password": {newPw}, "new_password2": {newPw}}, "pw-current-error", "not correct", true},
		{"no current", url.Values{"new_password": {newPw}, "new_password2": {newPw}}, "pw-current-error", "current password", false},
		{"mismatch", url.Values{"current_password": {testPassword}, "new_password": {newPw}, "new_password2": {newPw + "x"}}, "pw-repeat-error", "match", false},
		{"short", url.Values{"current_password": {testPassword}, "new_password": {"kurz"}, "new_password2": {"kurz"}}, "password-unmet", "At least 8 characters", false},
		{"common", url.Values{"current_password": {testPassword}, "new_password": {"P@ssw0rd"}, "new_password2": {"P@ssw0rd"}}, "password-unmet", "common", false},
		{"personal", url.Values{"current_password": {testPassword}, "new_password": {"Muster#2027x"}, "new_password2": {"Muster#2027x"}}, "password-unmet", "name", false},
	} {
		fails := e.profUser(u.ID).FailedLogins
		resp, body := e.post("/profile/password", c.form, profEN)
		if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, c.testid), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, c.testid))
		}
		if strings.Contains(body, newPw) || strings.Contains(body, testPassword) {
			t.Fatalf("%s: a password was echoed", c.name)
		}
		got := e.profUser(u.ID)
		if got.PasswordHash != before.PasswordHash {
			t.Fatalf("%s: password changed", c.name)
		}
		if c.failure != (got.FailedLogins == fails+1) {
			t.Fatalf("%s: failed logins %d → %d", c.name, fails, got.FailedLogins)
		}
	}
	// Each unmet rule is named.
	_, body := e.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"qzxw"}, "new_password2": {"qzxw"}}, profEN)
	var rules []string
	doc(t, body).Find(`[data-testid=password-unmet] li`).Each(func(_ int, s *goquery.Selection) { r, _ := s.Attr("data-rule"); rules = append(rules, r) })
	if strings.Join(rules, ",") != "password.rule.length,password.rule.upper,password.rule.digit,password.rule.special" {
		t.Fatalf("unmet rules %v", rules)
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails after failures", n)
	}

	resp, _ := e.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {newPw}, "new_password2": {newPw}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	// This browser stays signed in, listed under its new token.
	resp, body = e.get("/profile", profEN)
	if resp.StatusCode != 200 || !strings.Contains(profErr(t, body, "alert-success"), "password was changed") {
		t.Fatalf("this session after change: %d", resp.StatusCode)
	}
	var listed int
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID).Scan(&listed)
	if listed != 1 || doc(t, body).Find(`[data-testid=session-row]`).Length() != 1 {
		t.Fatalf("%d sessions listed after the change", listed)
	}
	// The other browser is signed out.
	e.client.Jar = other
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("other session survived: %d", resp.StatusCode)
	}
	// Old password out, new one in.
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Fatalf("old password: %d", resp.StatusCode)
	}
	e.login(u.Email, newPw)
	e.client.Jar = this

	// The notification: to Anna, no password, what to do if it was not her.
	ms := e.mails()
	if len(ms) != 1 {
		t.Fatalf("%d mails", len(ms))
	}
	m := e.lastMailTo(u.Email)
	if !strings.Contains(m.Subject, "password") || !strings.Contains(m.Text, "If you did not do this") {
		t.Fatalf("mail %q:\n%s", m.Subject, m.Text)
	}
	for _, secret := range []string{newPw, testPassword} {
		if strings.Contains(m.Text, secret) || strings.Contains(m.HTML, secret) || strings.Contains(m.Subject, secret) {
			t.Fatal("password in the mail")
		}
	}
	var audited int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'password.change' AND actor_id = ?`, u.ID).Scan(&audited)
	if audited != 1 {
		t.Fatalf("audit: %d", audited)
	}
}
