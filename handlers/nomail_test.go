package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/mail"
)

// withoutMailServer builds the server as `portier serve` does when PORTIER_SMTP_URL is not set.
func withoutMailServer(c *testConfig) { c.NoMailServer = true }

// sendOutboxWithoutServer runs the mail worker as `portier serve` does without a mail server, logging into
// the server's log, and returns the mails it was given (decrypted, as they were queued).
func (e *testEnv) sendOutboxWithoutServer() []db.Mail {
	e.t.Helper()
	queued := e.mails()
	w := &mail.Worker{DB: e.db, Sealer: e.srv.cfg.Sealer, Sender: &mail.Log{Logger: e.srv.log}, Log: e.srv.log}
	w.SendDue(context.Background(), context.Background())
	if left := e.mails(); len(left) != 0 {
		e.t.Fatalf("%d mails still queued", len(left))
	}
	return queued
}

var tokenRE = regexp.MustCompile(`/(invite|reset|confirm)/([A-Za-z0-9_-]{43})`)

// Without a mail server every kind of mail — invitation, password reset, confirmation of a new address,
// notice of an e-mail change, sign-in code — leaves one log line naming recipient and kind, and the log
// holds no link, token, code, subject or body of any of them.
func TestWithoutMailServerTheLogNamesRecipientAndKindButNoSecret(t *testing.T) {
	e := newTestEnv(t, withoutMailServer)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("admin@muster-it.example", "Ada Admin", "admin", nil)
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	bert := e.createUser("bert@muster.example", "Bert", "", map[int64]string{o.ID: "viewer"})

	e.login("admin@muster-it.example", testPassword)
	resp, body := e.post("/staff/people/invite", url.Values{"email": {"neu@muster-it.example"}, "name": {"Nele"}, "role": {"technician"}, "lang": {"de"}}, nil)
	mustStatus(t, "invite", resp, body, 200)
	e.newClient()
	if resp, _ := e.post("/forgot", url.Values{"email": {bert.Email}}, nil); resp.StatusCode != 200 && resp.StatusCode != 303 {
		t.Fatalf("forgot: %d", resp.StatusCode)
	}
	e.login(anna.Email, testPassword)
	resp, _ = e.post("/profile/email", url.Values{"email": {"anna.neu@muster.example"}, "current_password": {testPassword}}, nil)
	mustRedirect(t, "e-mail change", resp, "/profile")

	// A sign-in code is not sent without a mail server (see TestEmailFactorNeedsAMailServer); one queued
	// while a server was set is still handled by the same worker when it is gone.
	withServer := newTestEnv(t)
	carl := withServer.createUserNoMFA("carl@muster.example", "Carl", "", map[int64]string{withServer.createOrg("Muster GmbH", "muster").ID: "viewer"})
	withServer.enrolEmailMethod(carl.ID, carl.Email)
	withServer.loginPassword(carl.Email, testPassword)
	withServer.get("/mfa", nil)
	withServer.mailedCode(carl.Email)

	queued := append(e.sendOutboxWithoutServer(), withServer.sendOutboxWithoutServer()...)
	log := e.logBuf.String() + withServer.logBuf.String()
	want := map[string]string{
		"neu@muster-it.example":   "mail.invite",
		bert.Email:                "mail.reset",
		"anna.neu@muster.example": "mail.confirm",
		anna.Email:                "mail.email_change",
		carl.Email:                "mail.mfa_code",
	}
	if len(queued) != len(want) {
		t.Fatalf("%d mails queued, want %d", len(queued), len(want))
	}
	for _, m := range queued {
		if want[m.To] != m.Kind {
			t.Errorf("mail to %s is %q, want %q", m.To, m.Kind, want[m.To])
		}
		if !strings.Contains(log, "to="+m.To+" kind="+m.Kind) {
			t.Errorf("log does not say that the %s mail to %s could not be sent", m.Kind, m.To)
		}
		var secrets []string
		for _, tok := range tokenRE.FindAllStringSubmatch(m.Text, -1) {
			secrets = append(secrets, tok[0], tok[2])
		}
		if c := mailCodeRE.FindStringSubmatch(m.Text); c != nil {
			secrets = append(secrets, c[1])
		}
		if m.Kind != "mail.email_change" && len(secrets) == 0 {
			t.Fatalf("%s mail without link or code:\n%s", m.Kind, m.Text)
		}
		secrets = append(secrets, m.Subject)
		for _, p := range strings.Split(m.Text, "\n\n") {
			if len(p) > 20 {
				secrets = append(secrets, p)
			}
		}
		for _, s := range secrets {
			if strings.Contains(log, s) {
				t.Errorf("the log holds %q of the %s mail", s, m.Kind)
			}
		}
	}
	if n := strings.Count(log, "mail could not be sent"); n != len(want) {
		t.Errorf("%d log lines about mails not sent, want %d", n, len(want))
	}
	t.Logf("log lines about mail:\n%s", grepLines(log, "mail could not be sent"))
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Without a mail server e-mail codes are not offered: not when choosing a first factor, not when adding
// one, not at sign-in. A person who also has an app signs in with it; a person with only e-mail codes is
// told in their language to use a recovery code or ask support, and a recovery code works.
func TestEmailFactorNeedsAMailServer(t *testing.T) {
	e := newTestEnv(t, withoutMailServer)
	o := e.createOrg("Muster GmbH", "muster")
	members := map[int64]string{o.ID: "viewer"}

	// Choosing the first factor.
	neu := e.createUserNoMFA("neu@muster.example", "Neu", "", members)
	e.loginPassword(neu.Email, testPassword)
	resp, body := e.get("/mfa/setup", en2(nil))
	mustStatus(t, "setup", resp, body, 200)
	d := doc(t, body)
	if d.Find(`[data-testid=setup-email]`).Length() != 0 || d.Find(`[data-testid=email-unavailable]`).Length() != 1 {
		t.Fatal("e-mail codes offered as a first factor")
	}
	for _, r := range []struct{ method, path string }{{"GET", "/mfa/setup/email"}, {"POST", "/mfa/setup/email"}, {"POST", "/mfa/setup/email/verify"}} {
		var resp = e.postOrGet(r.method, r.path, url.Values{"to": {"own"}, "code": {"123456"}})
		mustRedirect(t, r.method+" "+r.path, resp, "/mfa/setup")
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails queued", n)
	}

	// Adding a factor on the security page.
	e.newClient()
	anna := e.createUser("anna@muster.example", "Anna", "", members)
	annaMail := e.enrolEmailMethod(anna.ID, anna.Email)
	e.login(anna.Email, testPassword)
	_, body = e.get("/security", en2(nil))
	if doc(t, body).Find(`[data-testid=add-email-link]`).Length() != 0 || doc(t, body).Find(`[data-testid=email-unavailable]`).Length() != 1 {
		t.Fatal("e-mail codes offered on the security page")
	}

	// Signing in with an app and e-mail codes: the e-mail method is not offered, even when asked for.
	e.post("/logout", nil, nil)
	e.db.W.Exec(`UPDATE mfa_methods SET last_used_at = ? WHERE id = ?`, e.clock.Now().Add(time.Hour).Unix(), annaMail)
	e.loginPassword(anna.Email, testPassword)
	for _, p := range []string{"/mfa", "/mfa?use=email-" + itoa64(annaMail)} {
		_, body = e.get(p, en2(nil))
		d = doc(t, body)
		if m, _ := d.Find(`[data-testid=mfa-verify]`).Attr("data-method"); m != "totp" || d.Find(`[data-testid=use-email]`).Length() != 0 || d.Find(`[data-testid=mfa-no-mail]`).Length() != 0 {
			t.Fatalf("%s: method %q, e-mail offered %d", p, m, d.Find(`[data-testid=use-email]`).Length())
		}
	}
	resp, _ = e.post("/mfa/email/send", url.Values{"use": {"email-" + itoa64(annaMail)}}, nil)
	if resp.StatusCode != 303 || len(e.mails()) != 0 {
		t.Fatalf("code sent on request: %d, %d mails", resp.StatusCode, len(e.mails()))
	}

	// Only e-mail codes, with recovery codes: the recovery form, the explanation, and it works.
	e.newClient()
	bert := e.createUserNoMFA("bert@muster.example", "Bert", "", members)
	e.loginPassword(bert.Email, testPassword)
	_, codes := e.enrolTOTPFlow(t)
	e.post("/mfa/recovery/done", nil, nil)
	e.post("/logout", nil, nil)
	e.db.W.Exec(`DELETE FROM mfa_methods WHERE user_id = ?`, bert.ID)
	e.enrolEmailMethod(bert.ID, bert.Email)
	e.db.W.Exec(`UPDATE users SET lang = 'de' WHERE id = ?`, bert.ID)
	e.loginPassword(bert.Email, testPassword)
	_, body = e.get("/mfa", nil)
	d = doc(t, body)
	if m, _ := d.Find(`[data-testid=mfa-verify]`).Attr("data-method"); m != "recovery" {
		t.Fatalf("method %q", m)
	}
	if msg := textOf(t, body, `[data-testid=mfa-no-mail]`); !strings.Contains(msg, "keine E-Mails versenden") || !strings.Contains(msg, "Wiederherstellungscode") || !strings.Contains(msg, "support@muster-it.example") {
		t.Fatalf("explanation: %q", msg)
	}
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[0]}}, nil)
	mustRedirect(t, "recovery code", resp, "/o/muster")

	// Only e-mail codes and no recovery code left: whom to ask, nothing to type, nothing counted.
	e.post("/logout", nil, nil)
	e.db.W.Exec(`DELETE FROM recovery_codes WHERE user_id = ?`, bert.ID)
	e.db.W.Exec(`UPDATE users SET lang = 'en' WHERE id = ?`, bert.ID)
	e.loginPassword(bert.Email, testPassword)
	_, body = e.get("/mfa", en2(nil))
	d = doc(t, body)
	if m, _ := d.Find(`[data-testid=mfa-verify]`).Attr("data-method"); m != "nomail" || d.Find(`input[name=code]`).Length() != 0 {
		t.Fatalf("method %q, code field %d", m, d.Find(`input[name=code]`).Length())
	}
	if msg := textOf(t, body, `[data-testid=mfa-no-mail]`); !strings.Contains(msg, "cannot send e-mail") || !strings.Contains(msg, "support@muster-it.example") {
		t.Fatalf("explanation: %q", msg)
	}
	resp, _ = e.post("/mfa", url.Values{"use": {"nomail"}, "code": {"123456"}}, nil)
	mustRedirect(t, "nothing to check", resp, "/mfa")
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails queued", n)
	}
}

func (e *testEnv) postOrGet(method, path string, form url.Values) (resp *http.Response) {
	e.t.Helper()
	if method == "GET" {
		resp, _ = e.get(path, nil)
	} else {
		resp, _ = e.post(path, form, nil)
	}
	return resp
}
