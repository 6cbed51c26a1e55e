package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// The security page lists methods with names and last use, recovery codes, sessions and recent sign-ins
// with their method and browser.
func TestSecurityPageShowsMethodsSessionsAndSignIns(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
	e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, map[string]string{"User-Agent": firefox})
	e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now())}}, map[string]string{"User-Agent": firefox})
	resp, body := e.get("/security", en2(nil))
	mustStatus(t, "security page", resp, body, 200)
	d := doc(t, body)
	methods := d.Find(`[data-testid=security-methods]`).Text()
	if !strings.Contains(methods, "Authenticator app") || !strings.Contains(body, `value="Test phone"`) {
		t.Errorf("methods: %q", methods)
	}
	if s := d.Find(`[data-testid=security-sessions]`).Text(); !strings.Contains(s, "Firefox on Windows") || !strings.Contains(s, "this device") {
		t.Errorf("sessions: %q", s)
	}
	row := d.Find(`[data-testid=signin]`).First().Text()
	if !strings.Contains(row, "Authenticator app") || !strings.Contains(row, "127.0.0.1") || !strings.Contains(row, "Firefox on Windows") {
		t.Errorf("recent sign-in: %q", row)
	}
	for _, id := range []string{"add-passkey", "add-totp", "add-email", "recovery-regenerate"} {
		if d.Find(`[data-testid=`+id+`]`).Length() != 1 {
			t.Errorf("no %s", id)
		}
	}
	// German too.
	_, body = e.get("/security", map[string]string{"Accept-Language": "de"})
	if !strings.Contains(body, "Zweite Faktoren") && !strings.Contains(body, "Second factors") {
		t.Errorf("page without its heading")
	}
}

// Nobody can remove their last factor; removing any factor needs the password entered in the last 10
// minutes; renaming does not.
func TestRemoveFactorRulesAndReauth(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	first := countRows(t, e, `SELECT id FROM mfa_methods WHERE user_id = ?`, u.ID)
	e.login(u.Email, testPassword)

	resp, body := e.post("/security/methods/"+mfaItoa(first)+"/remove", nil, en2(nil))
	if resp.StatusCode != 409 || !strings.Contains(body, "only second factor") {
		t.Fatalf("removing the last factor: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 1 {
		t.Fatalf("last factor removed")
	}

	// Rename (no password needed).
	resp, _ = e.post("/security/methods/"+mfaItoa(first)+"/rename", url.Values{"name": {"  Old   phone "}}, nil)
	mustRedirect(t, "rename", resp, "/security#methods")
	var name string
	e.db.R.QueryRow(`SELECT name FROM mfa_methods WHERE id = ?`, first).Scan(&name)
	if name != "Old phone" {
		t.Fatalf("renamed to %q", name)
	}
	// Another person's method is not there.
	other := e.createUser("ben@muster.example", "Ben", "", nil)
	var otherID int
	e.db.R.QueryRow(`SELECT id FROM mfa_methods WHERE user_id = ?`, other.ID).Scan(&otherID)
	resp, _ = e.post("/security/methods/"+mfaItoa(otherID)+"/remove", nil, nil)
	mustStatus(t, "another person's method", resp, "", 404)

	// Changing phones: add the new one, then remove the old one. After 10 minutes both need the password.
	e.clock.Advance(11 * time.Minute)
	resp, _ = e.get("/mfa/setup/totp", nil)
	if !strings.HasPrefix(location(resp), "/security/confirm?next=") {
		t.Fatalf("adding without a recent password: %q", location(resp))
	}
	resp, _ = e.get("/mfa/setup", nil)
	if !strings.HasPrefix(location(resp), "/security/confirm") {
		t.Fatalf("choice without a recent password: %q", location(resp))
	}
	resp, body = e.post("/security/confirm", url.Values{"password": {"wrong"}, "next": {"/mfa/setup/totp"}}, en2(nil))
	mustStatus(t, "wrong password", resp, body, 422)
	if n := countRows(t, e, `SELECT failed_logins FROM users WHERE id = ?`, u.ID); n != 1 {
		t.Errorf("wrong re-confirmation not counted: %d", n)
	}
	resp, _ = e.post("/security/confirm", url.Values{"password": {testPassword}, "next": {"https://evil.example/"}}, nil)
	mustRedirect(t, "foreign next", resp, "/security")
	resp, body = e.get("/mfa/setup/totp", en2(nil))
	mustStatus(t, "add app", resp, body, 200)
	secret, _ := b32.DecodeString(strings.ReplaceAll(doc(t, body).Find(`[data-testid=totp-key]`).Text(), " ", ""))
	resp, _ = e.post("/mfa/setup/totp", url.Values{"name": {"New phone"}, "code": {totpCode(secret, totpStep(e.clock.Now()))}}, nil)
	mustRedirect(t, "second app", resp, "/security")
	if n := countRows(t, e, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, u.ID); n != 0 {
		t.Errorf("a second method made recovery codes")
	}

	e.clock.Advance(11 * time.Minute)
	resp, _ = e.post("/security/methods/"+mfaItoa(first)+"/remove", nil, nil)
	if !strings.HasPrefix(location(resp), "/security/confirm") {
		t.Fatalf("removing without a recent password: %q", location(resp))
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 2 {
		t.Fatalf("removed without the password")
	}
	_, body = e.get(location(resp), en2(nil))
	if doc(t, body).Find(`input[name=password][autocomplete=current-password]`).Length() != 1 {
		t.Fatalf("re-confirm form")
	}
	e.post("/security/confirm", url.Values{"password": {testPassword}}, nil)
	resp, _ = e.post("/security/methods/"+mfaItoa(first)+"/remove", nil, nil)
	mustRedirect(t, "remove old phone", resp, "/security#methods")
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ? AND name = 'New phone'`, u.ID); n != 1 ||
		countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID) != 1 {
		t.Fatalf("wrong method removed")
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'mfa.remove' AND actor_id = ?`, u.ID); n != 1 {
		t.Errorf("mfa.remove audited %d times", n)
	}
}

// Staff reset a person's second factors: everything is gone, the sessions end, the person gets a mail,
// it is audited, and the next sign-in asks for enrolment.
func TestStaffResetForcesEnrolment(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	admin := e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tom@msp.example", "Tom Tech", "technician", nil)
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.db.W.Exec(`INSERT INTO recovery_codes(user_id, code_hash, created_at) VALUES (?, x'00', 0)`, anna.ID)
	e.login(anna.Email, testPassword)
	annaJar := e.client.Jar

	e.newClient()
	e.login(tech.Email, testPassword)
	// A technician cannot reset an administrator, and nobody resets themselves here.
	resp, _ := e.post("/staff/users/"+itoa64(admin.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "technician resets admin", resp, "", 404)
	resp, _ = e.post("/staff/users/"+itoa64(tech.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "reset oneself", resp, "", 422)
	resp, _ = e.post("/staff/users/"+itoa64(anna.ID)+"/mfa-reset", url.Values{"next": {"/staff/people"}}, nil)
	mustRedirect(t, "reset", resp, "/staff/people")

	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, anna.ID) +
		countRows(t, e, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, anna.ID); n != 0 {
		t.Fatalf("factors left after the reset: %d", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, anna.ID); n != 0 {
		t.Fatalf("sessions survived the reset")
	}
	if m := e.lastMailTo(anna.Email); !strings.Contains(m.Text, "Tom Tech") || !strings.Contains(m.Subject, "reset") {
		t.Fatalf("mail: %q\n%s", m.Subject, m.Text)
	}
	var target string
	e.db.R.QueryRow(`SELECT target FROM audit WHERE action = 'mfa.reset' AND actor_id = ?`, tech.ID).Scan(&target)
	if target != anna.Email {
		t.Fatalf("audit target %q", target)
	}
	// Anna's old session is gone; her next sign-in leads to enrolment.
	e.client.Jar = annaJar
	resp, _ = e.get("/orgs", nil)
	if !strings.HasPrefix(location(resp), "/login") {
		t.Fatalf("old session still works: %q", location(resp))
	}
	if loc := e.loginPassword(anna.Email, testPassword); loc != "/mfa/setup" {
		t.Fatalf("after the reset: %q", loc)
	}
}

// An organisation's manager resets members of that organisation only — never staff, never people of
// another organisation; viewers cannot.
func TestManagerResetOnlyForOwnMembers(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	p := e.createOrg("Andere AG", "andere")
	mia := e.createUser("mia@muster.example", "Mia Manager", "", map[int64]string{o.ID: "manager"})
	vic := e.createUser("vic@muster.example", "Vic Viewer", "", map[int64]string{o.ID: "viewer"})
	olaf := e.createUser("olaf@andere.example", "Olaf", "", map[int64]string{p.ID: "viewer"})
	staff := e.createUser("ada@msp.example", "Ada", "admin", nil)
	e.login(mia.Email, testPassword)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/o/muster/people/" + itoa64(olaf.ID) + "/mfa-reset", 404},  // another organisation's person
		{"/o/andere/people/" + itoa64(olaf.ID) + "/mfa-reset", 404},  // another organisation
		{"/o/muster/people/" + itoa64(staff.ID) + "/mfa-reset", 404}, // staff
		{"/o/muster/people/" + itoa64(vic.ID) + "/mfa-reset", 303},
	} {
		resp, _ := e.post(c.path, nil, nil)
		mustStatus(t, c.path, resp, "", c.status)
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, vic.ID); n != 0 {
		t.Fatalf("member not reset")
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id IN (?, ?)`, olaf.ID, staff.ID); n != 2 {
		t.Fatalf("others touched")
	}
	var org int64
	e.db.R.QueryRow(`SELECT org_id FROM audit WHERE action = 'mfa.reset'`).Scan(&org)
	if org != o.ID {
		t.Errorf("reset not in the organisation's log")
	}
	// A viewer cannot reset anyone.
	e.newClient()
	w := e.createUser("wim@muster.example", "Wim", "", map[int64]string{o.ID: "viewer"})
	x := e.createUser("xia@muster.example", "Xia", "", map[int64]string{o.ID: "viewer"})
	e.login(w.Email, testPassword)
	resp, _ := e.post("/o/muster/people/"+itoa64(x.ID)+"/mfa-reset", nil, nil)
	mustStatus(t, "viewer resets", resp, "", 404)
}

func mfaItoa(n int) string { return itoa64(int64(n)) }

// Removing a factor asks first (the security page only links to a confirmation), then removes it and mails
// the person; the page's "last used" agrees with the sign-in list below it after the first enrolment.
func TestRemoveFactorAsksAndNotifies(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa/setup" {
		t.Fatalf("without a factor the password leads to %q", loc)
	}
	e.enrolTOTPFlow(t)
	e.post("/mfa/recovery/done", nil, nil)
	first := countRows(t, e, `SELECT id FROM mfa_methods WHERE user_id = ?`, u.ID)

	resp, body := e.get("/security", en2(nil))
	mustStatus(t, "security page", resp, body, 200)
	d := doc(t, body)
	signin := d.Find(`[data-testid=signin]`).First().Text()
	last := strings.TrimSpace(d.Find(`[data-testid=last-used-` + mfaItoa(first) + `]`).Text())
	if !strings.Contains(signin, "Authenticator app") || last == "" || last == "not yet" || !strings.Contains(signin, last) {
		t.Errorf("last used %q beside the sign-in %q", last, signin)
	}
	if d.Find(`form[action$="/remove"]`).Length() != 0 {
		t.Errorf("the security page removes a factor with one click")
	}

	// The only factor: the confirmation says it cannot go, and offers no button to try.
	resp, body = e.get("/security/methods/"+mfaItoa(first)+"/remove", en2(nil))
	mustStatus(t, "confirmation of the last factor", resp, body, 200)
	if d := doc(t, body); !strings.Contains(d.Find(`[data-testid=remove-method]`).Text(), "only second factor") || d.Find(`[data-testid=remove-confirm]`).Length() != 0 {
		t.Errorf("the last factor is offered for removal")
	}

	// A second method, so the first may go.
	resp, body = e.get("/mfa/setup/totp", en2(nil))
	mustStatus(t, "add app", resp, body, 200)
	secret, _ := b32.DecodeString(strings.ReplaceAll(doc(t, body).Find(`[data-testid=totp-key]`).Text(), " ", ""))
	e.clock.Advance(time.Minute)
	resp, _ = e.post("/mfa/setup/totp", url.Values{"name": {"New phone"}, "code": {totpCode(secret, totpStep(e.clock.Now()))}}, nil)
	mustRedirect(t, "second app", resp, "/security")

	resp, body = e.get("/security/methods/"+mfaItoa(first)+"/remove", en2(nil))
	mustStatus(t, "confirmation", resp, body, 200)
	d = doc(t, body)
	if q := d.Find(`[data-testid=remove-method]`).Text(); !strings.Contains(q, "Work phone") || !strings.Contains(q, u.Email) {
		t.Errorf("confirmation does not name the factor and the address: %q", q)
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 2 {
		t.Fatalf("asking removed the factor")
	}
	resp, _ = e.post("/security/methods/"+mfaItoa(first)+"/remove", nil, nil)
	mustRedirect(t, "remove", resp, "/security#methods")
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 1 {
		t.Fatalf("%d factors after removing one", n)
	}
	m := e.lastMailTo(u.Email)
	if !strings.Contains(m.Subject, "second factor was removed") || !strings.Contains(m.Text, "Work phone") || !strings.Contains(m.Text, "Authenticator app") {
		t.Fatalf("notice: %q\n%s", m.Subject, m.Text)
	}
}
