package handlers

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// enrolEmailMethod gives a person e-mail codes to addr directly in the database.
func (e *testEnv) enrolEmailMethod(uid int64, addr string) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.AddEmailMethod(ctx, tx, e.clock.Now().Add(time.Minute), uid, addr, addr)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// Enrolling e-mail codes to the person's own address: a code proves the mailbox; then recovery codes.
// At the next sign-in the code comes by mail and passes.
func TestEmailCodeEnrolmentAndSignIn(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(u.Email, testPassword)
	resp, body := e.get("/mfa/setup/email", en2(nil))
	mustStatus(t, "email page", resp, body, 200)
	if !strings.Contains(body, "weakest") {
		t.Errorf("e-mail codes not labelled as the weakest method")
	}
	resp, _ = e.post("/mfa/setup/email", url.Values{"to": {"own"}}, nil)
	mustRedirect(t, "send", resp, "/mfa/setup/email")
	_, body = e.get("/mfa/setup/email", en2(nil))
	if got := textOf(t, body, `[data-testid=email-sent-to]`); !strings.Contains(got, u.Email) {
		t.Fatalf("pending page: %q", got)
	}
	c := e.mailedCode(u.Email)
	resp, _ = e.post("/mfa/setup/email/verify", url.Values{"code": {wrongCode(c)}}, nil)
	mustStatus(t, "wrong enrolment code", resp, "", 422)
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 0 {
		t.Fatalf("enabled with a wrong code")
	}
	resp, _ = e.post("/mfa/setup/email/verify", url.Values{"code": {c}}, nil)
	mustRedirect(t, "right enrolment code", resp, "/mfa/recovery")
	e.post("/mfa/recovery/done", nil, nil)

	e.post("/logout", nil, nil)
	e.clock.Advance(2 * time.Minute) // past the mail cooldown
	if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa" {
		t.Fatalf("after the password: %q", loc)
	}
	resp, body = e.get("/mfa", en2(nil))
	if m, _ := doc(t, body).Find(`[data-testid=mfa-verify]`).Attr("data-method"); m != "email" {
		t.Fatalf("method asked: %q", m)
	}
	use, _ := doc(t, body).Find(`input[name=use]`).First().Attr("value")
	c2 := e.mailedCode(u.Email)
	if c2 == c {
		t.Fatalf("the same code twice")
	}
	resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {" " + c2[:3] + " " + c2[3:]}}, nil)
	mustRedirect(t, "mailed code", resp, "/o/muster")
	var method string
	e.db.R.QueryRow(`SELECT target FROM audit WHERE action = 'mfa.ok' AND actor_id = ? ORDER BY id DESC`, u.ID).Scan(&method)
	if method != "email" {
		t.Errorf("mfa.ok target %q", method)
	}
}

func wrongCode(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

// The rules of e-mail codes: valid 10 minutes, single use, bound to the sign-in attempt that asked for it,
// a resend waits for the cooldown, and five wrong tries void it.
func TestEmailCodeRules(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	mid := e.enrolEmailMethod(u.ID, u.Email)
	use := "email-" + itoa64(mid)

	// Expiry: a code entered after 10 minutes is refused.
	e.loginPassword(u.Email, testPassword)
	e.get("/mfa?use="+use, nil)
	c := e.mailedCode(u.Email)
	e.clock.Advance(10*time.Minute + time.Second)
	resp, body := e.post("/mfa", url.Values{"use": {use}, "code": {c}}, en2(nil))
	if resp.StatusCode != 422 || !strings.Contains(body, "That did not work") {
		t.Fatalf("expired code: %d", resp.StatusCode)
	}

	// The page sends a new code (the old one expired); the cooldown holds back an immediate resend.
	mailsBefore := len(e.mails())
	e.get("/mfa?use="+use, nil)
	if len(e.mails()) != mailsBefore+1 {
		t.Fatalf("no new code after expiry")
	}
	c = e.mailedCode(u.Email)
	resp, body = e.post("/mfa/email/send", url.Values{"use": {use}}, en2(nil))
	if resp.StatusCode != 200 || len(e.mails()) != mailsBefore+1 || !strings.Contains(body, "wait a minute") {
		t.Fatalf("resend within the cooldown: %d, %d mails", resp.StatusCode, len(e.mails())-mailsBefore)
	}

	// Bound to the attempt: another browser signing in cannot use this attempt's code.
	first := e.client.Jar
	e.newClient()
	e.loginPassword(u.Email, testPassword)
	resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {c}}, nil)
	mustStatus(t, "code of another attempt", resp, "", 422)

	// Back in the first browser the code works — once.
	e.client.Jar = first
	resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {c}}, nil)
	mustRedirect(t, "right code", resp, "/o/muster")
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {c}}, nil)
	mustStatus(t, "used code", resp, "", 422)

	// A resend after the cooldown: only the newest code works.
	e.clock.Advance(61 * time.Second)
	e.post("/mfa/email/send", url.Values{"use": {use}}, nil)
	older := c
	e.clock.Advance(61 * time.Second)
	resp, _ = e.post("/mfa/email/send", url.Values{"use": {use}}, nil)
	mustStatus(t, "resend", resp, "", 200)
	newest := e.mailedCode(u.Email)
	if older != newest {
		resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {older}}, nil)
		mustStatus(t, "older code after a resend", resp, "", 422)
	}

	// Five wrong tries void the code (and the attempt).
	e.newClient()
	e.clock.Advance(61 * time.Second)
	e.loginPassword(u.Email, testPassword)
	e.get("/mfa?use="+use, nil)
	good := e.mailedCode(u.Email)
	for i := 0; i < 5; i++ {
		e.post("/mfa", url.Values{"use": {use}, "code": {wrongCode(good)}}, nil)
	}
	if n := countRows(t, e, `SELECT count(*) FROM email_codes WHERE user_id = ? AND tries = 5 AND used_at IS NULL`, u.ID); n != 1 {
		t.Fatalf("code not void after five wrong tries: %d", n)
	}
	// Even the right code no longer works for that attempt.
	var attempt string
	e.db.R.QueryRow(`SELECT attempt FROM email_codes WHERE user_id = ? AND tries = 5`, u.ID).Scan(&attempt)
	res, _, err := e.srv.signin.CheckEmailCode(context.Background(), u, "login", attempt, good)
	if err != nil || res != db.EmailCodeNone {
		t.Fatalf("void code: %v %v", res, err)
	}
}

// Codes can go to a second address (a shared office mailbox) once a code sent there was entered.
func TestEmailCodesToASecondConfirmedAddress(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Kanzlei Huber", "huber")
	u := e.createUserNoMFA("anna@huber.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(u.Email, testPassword)
	resp, body := e.post("/mfa/setup/email", url.Values{"to": {"other"}, "other": {"not an address"}}, en2(nil))
	if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=other-error]`).Length() != 1 {
		t.Fatalf("invalid address: %d", resp.StatusCode)
	}
	resp, _ = e.post("/mfa/setup/email", url.Values{"to": {"other"}, "other": {"Buero@Huber.example"}}, nil)
	mustRedirect(t, "send", resp, "/mfa/setup/email")
	c := e.mailedCode("buero@huber.example")
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 0 {
		t.Fatalf("address used before it was confirmed")
	}
	resp, _ = e.post("/mfa/setup/email/verify", url.Values{"code": {c}}, nil)
	mustRedirect(t, "confirmed", resp, "/mfa/recovery")
	var addr string
	e.db.R.QueryRow(`SELECT email FROM mfa_methods WHERE user_id = ? AND kind = 'email'`, u.ID).Scan(&addr)
	if addr != "buero@huber.example" {
		t.Fatalf("method address %q", addr)
	}
	e.post("/mfa/recovery/done", nil, nil)
	// At sign-in the code goes to the office mailbox.
	e.post("/logout", nil, nil)
	e.clock.Advance(2 * time.Minute)
	e.loginPassword(u.Email, testPassword)
	_, body = e.get("/mfa", en2(nil))
	if got := textOf(t, body, `[data-testid=email-sent-to]`); !strings.Contains(got, "b•••@huber.example") {
		t.Fatalf("sent-to text: %q", got)
	}
	use, _ := doc(t, body).Find(`input[name=use]`).First().Attr("value")
	resp, _ = e.post("/mfa", url.Values{"use": {use}, "code": {e.mailedCode("buero@huber.example")}}, nil)
	mustRedirect(t, "office code", resp, "/o/huber")
}
