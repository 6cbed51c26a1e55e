package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// enrolTOTPFlow enrols an authenticator app through the pages (the person passed the password and has no
// factor yet) and returns the secret read from the page and the recovery codes shown afterwards.
func (e *testEnv) enrolTOTPFlow(t *testing.T) ([]byte, []string) {
	t.Helper()
	resp, body := e.get("/mfa/setup/totp", en2(nil))
	mustStatus(t, "totp page", resp, body, 200)
	key := strings.ReplaceAll(doc(t, body).Find(`[data-testid=totp-key]`).Text(), " ", "")
	secret, err := b32.DecodeString(key)
	if err != nil || len(secret) != 20 {
		t.Fatalf("typed-out key %q: %v (%d bytes)", key, err, len(secret))
	}
	c := totpCode(secret, totpStep(e.clock.Now()))
	resp, _ = e.post("/mfa/setup/totp", url.Values{"name": {"Work phone"}, "code": {c[:3] + " " + c[3:]}}, nil)
	mustRedirect(t, "enrol", resp, "/mfa/recovery")
	resp, body = e.get("/mfa/recovery", en2(nil))
	mustStatus(t, "recovery page", resp, body, 200)
	var codes []string
	doc(t, body).Find(`[data-testid=recovery-code]`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	return secret, codes
}

// The first-login pipeline with an authenticator app: choice → app (QR inline, key typed out, code) →
// recovery codes and "your account is set up" on one screen → the documentation.
func TestTOTPEnrolmentFromChoiceToDocumentation(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa/setup" {
		t.Fatalf("without a factor the password leads to %q", loc)
	}
	// Nothing else before a factor is enrolled.
	resp, _ := e.get("/orgs", nil)
	mustRedirect(t, "/orgs before enrolment", resp, "/mfa/setup")
	resp, _ = e.get("/mfa", nil)
	mustRedirect(t, "/mfa without a method", resp, "/mfa/setup")

	// The choice: three methods side by side, passkey and app recommended, e-mail the weakest.
	resp, body := e.get("/mfa/setup", en2(nil))
	mustStatus(t, "choice", resp, body, 200)
	d := doc(t, body)
	for _, id := range []string{"choice-passkey", "choice-totp", "choice-email"} {
		if d.Find(`[data-testid=`+id+`]`).Length() != 1 {
			t.Errorf("choice page lacks %s", id)
		}
	}
	if !strings.Contains(d.Find(`[data-testid=choice-email]`).Text(), "weakest") ||
		!strings.Contains(d.Find(`[data-testid=choice-totp]`).Text(), "recommended") ||
		!strings.Contains(d.Find(`[data-testid=choice-passkey]`).Text(), "recommended") {
		t.Errorf("labels: %q", d.Find(`.mfa-choices`).Text())
	}
	// This env's base URL is an IP address: passkeys are honestly unavailable.
	if d.Find(`[data-testid=passkey-unavailable]`).Length() != 1 {
		t.Errorf("passkey card on an IP address")
	}

	// The app page: QR code inline, key in groups of four with the settings, a proper code field.
	resp, body = e.get("/mfa/setup/totp", en2(nil))
	mustStatus(t, "totp page", resp, body, 200)
	d = doc(t, body)
	src, _ := d.Find(`[data-testid=totp-qr]`).Attr("src")
	if !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("QR code is not an inline PNG: %.60q", src)
	}
	key := d.Find(`[data-testid=totp-key]`).Text()
	groups := strings.Fields(key)
	if len(groups) != 8 || len(groups[0]) != 4 {
		t.Fatalf("key not in groups of four: %q", key)
	}
	// On the phone that shows the page, the same key opens in the authenticator app.
	if href := d.Find(`[data-testid=totp-app-link]`).AttrOr("href", ""); !strings.HasPrefix(href, "otpauth://totp/") ||
		!strings.Contains(href, "secret="+strings.Join(groups, "")) {
		t.Errorf("app link %q", href)
	}
	if st := d.Find(`[data-testid=totp-settings]`).Text(); !strings.Contains(st, "SHA1") || !strings.Contains(st, "6 digits") || !strings.Contains(st, "30 seconds") {
		t.Errorf("settings: %q", st)
	}
	for _, app := range []string{"Microsoft Authenticator", "Google Authenticator", "Bitwarden"} {
		if !strings.Contains(body, app) {
			t.Errorf("app %s not named", app)
		}
	}
	if in := d.Find(`input[name=code][autocomplete=one-time-code][inputmode=numeric]`); in.Length() != 1 {
		t.Errorf("code field attributes")
	}
	if d.Find(`input[name=name]`).Length() != 1 || d.Find(`label[for=code]`).Length() != 1 {
		t.Errorf("name field or label missing")
	}
	// The page is stable: a reload shows the same key until it is used.
	_, again := e.get("/mfa/setup/totp", nil)
	if doc(t, again).Find(`[data-testid=totp-key]`).Text() != key {
		t.Fatalf("the pending secret changed on reload")
	}
	secret, _ := b32.DecodeString(strings.ReplaceAll(key, " ", ""))
	// A wrong code keeps the page with a message.
	resp, body = e.post("/mfa/setup/totp", url.Values{"code": {"000000"}}, en2(nil))
	if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid=code-error]`).Length() != 1 {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, u.ID); n != 0 {
		t.Fatalf("enabled before a valid code")
	}
	// The right one, typed with a space, enables it.
	before := e.sessionToken()
	c := totpCode(secret, totpStep(e.clock.Now()))
	resp, _ = e.post("/mfa/setup/totp", url.Values{"name": {"Work phone"}, "code": {c[:3] + " " + c[3:]}}, nil)
	mustRedirect(t, "valid code", resp, "/mfa/recovery")
	if e.sessionToken() == before {
		t.Errorf("session token not renewed after the second factor")
	}
	var name string
	e.db.R.QueryRow(`SELECT name FROM mfa_methods WHERE user_id = ? AND kind = 'totp'`, u.ID).Scan(&name)
	if name != "Work phone" {
		t.Errorf("device name %q", name)
	}
	// The session listing follows the renewed token.
	if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ? AND hash = ?`, u.ID, db.SessionHash(e.sessionToken())); n != 1 {
		t.Errorf("session listing lost the renewed session")
	}

	// Recovery codes and "your account is set up" on one screen; nothing else until acknowledged.
	resp, _ = e.get("/orgs", nil)
	mustRedirect(t, "/orgs before acknowledging", resp, "/mfa/recovery")
	resp, body = e.get("/mfa/recovery", en2(nil))
	mustStatus(t, "recovery", resp, body, 200)
	d = doc(t, body)
	if d.Find(`[data-testid=recovery-code]`).Length() != 10 || d.Find(`[data-testid=setup-done]`).Length() != 1 {
		t.Fatalf("recovery screen: %d codes, set-up note %d", d.Find(`[data-testid=recovery-code]`).Length(), d.Find(`[data-testid=setup-done]`).Length())
	}
	first := d.Find(`[data-testid=recovery-code]`).First().Text()
	if resp.Header.Get("Cache-Control") != "no-store" || d.Find(`[hx-history=false]`).Length() == 0 {
		t.Errorf("codes page may be cached")
	}
	resp, body = e.get("/mfa/recovery/codes.txt", en2(nil))
	if resp.StatusCode != 200 || !strings.Contains(body, first) || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Disposition"))
	}
	if n := countRows(t, e, `SELECT setup_shown FROM users WHERE id = ?`, u.ID); n != 1 {
		t.Errorf("setup not marked as shown")
	}
	// /orgs was asked for along the way: that is where the person lands.
	resp, _ = e.post("/mfa/recovery/done", nil, nil)
	mustRedirect(t, "acknowledged", resp, "/orgs")
	resp, _ = e.get("/mfa/recovery/codes.txt", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("codes downloadable after acknowledging: %d", resp.StatusCode)
	}
	resp, _ = e.get("/mfa/recovery", nil)
	mustRedirect(t, "codes page after acknowledging", resp, "/o/muster")
	resp, _ = e.get("/orgs", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/orgs after setup: %d", resp.StatusCode)
	}
	for _, a := range []string{"mfa.enrol.totp", "recovery.create"} {
		if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = ? AND actor_id = ?`, a, u.ID); n != 1 {
			t.Errorf("audit %s: %d", a, n)
		}
	}
}

// Signing in with the app: the method is asked for after the password; the same code is refused the
// second time (replay), even in a new sign-in; one step of skew is accepted, two are not.
func TestTOTPSignInReplayAndSkew(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa" {
		t.Fatalf("after the password: %q", loc)
	}
	resp, body := e.get("/mfa", en2(nil))
	d := doc(t, body)
	if m, _ := d.Find(`[data-testid=mfa-verify]`).Attr("data-method"); resp.StatusCode != 200 || m != "totp" {
		t.Fatalf("verify page: %d method %q", resp.StatusCode, m)
	}
	if d.Find(`input[name=code][autocomplete=one-time-code][inputmode=numeric]`).Length() != 1 {
		t.Errorf("code field attributes")
	}
	now := e.clock.Now()
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(now)}}, nil)
	mustRedirect(t, "right code", resp, "/o/muster")

	// The same code again, in a new sign-in within the same 30 seconds: refused.
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	resp, body = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(now)}}, en2(nil))
	if resp.StatusCode != 422 || !strings.Contains(body, "That did not work") {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	// Also an older code of the previous step (still within the skew) is refused: steps only go forward.
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(now.Add(-30 * time.Second))}}, nil)
	mustStatus(t, "older step after a newer one", resp, "", 422)
	// The next step's code passes (one step of skew ahead) …
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(now.Add(30 * time.Second))}}, nil)
	mustRedirect(t, "next step", resp, "/o/muster")

	// … and two steps away do not, either way. A fresh person for a clean last step.
	v := e.createUser("ben@muster.example", "Ben", "", map[int64]string{o.ID: "viewer"})
	e.newClient()
	e.loginPassword(v.Email, testPassword)
	for _, d := range []time.Duration{-61 * time.Second, 61 * time.Second} {
		t0 := e.clock.Now()
		if c := code(t0.Add(d)); c != code(t0.Add(-30*time.Second)) && c != code(t0) && c != code(t0.Add(30*time.Second)) {
			resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {c}}, nil)
			mustStatus(t, "two steps away", resp, "", 422)
		}
	}
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now().Add(-30 * time.Second))}}, nil)
	mustRedirect(t, "previous step", resp, "/o/muster")
	var last int64
	e.db.R.QueryRow(`SELECT last_step FROM mfa_methods WHERE user_id = ?`, v.ID).Scan(&last)
	if last != totpStep(e.clock.Now())-1 {
		t.Errorf("last step %d, want %d", last, totpStep(e.clock.Now())-1)
	}
}

// Five wrong codes void the attempt: the session ends and the password is asked again. Failed codes count
// as failed sign-ins, across attempts, so guessing with a known password runs into the account lock.
func TestWrongCodesVoidTheAttemptAndLockTheAccount(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	wrong := func() string {
		c := code(e.clock.Now())
		if c == "123456" {
			return "654321"
		}
		return "123456"
	}
	for round := 1; round <= 2; round++ {
		if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa" {
			t.Fatalf("round %d: %q", round, loc)
		}
		var msgs []string
		for i := 1; i <= 4; i++ {
			resp, body := e.post("/mfa", url.Values{"use": {"totp"}, "code": {wrong()}}, en2(nil))
			mustStatus(t, "wrong code", resp, body, 422)
			msgs = append(msgs, doc(t, body).Find(`[data-testid=alert-error]`).Text())
		}
		if msgs[0] == "" || msgs[0] != msgs[3] {
			t.Fatalf("failure messages differ or are empty: %q", msgs)
		}
		resp, _ := e.post("/mfa", url.Values{"use": {"totp"}, "code": {wrong()}}, nil)
		mustRedirect(t, "fifth wrong code", resp, "/login")
		_, body := e.get("/login", en2(nil))
		if !strings.Contains(body, "Too many wrong codes") {
			t.Fatalf("no explanation on the sign-in page")
		}
		resp, _ = e.get("/mfa", nil)
		if !strings.HasPrefix(location(resp), "/login") {
			t.Fatalf("attempt still alive: %q", location(resp))
		}
		if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID); n != 0 {
			t.Fatalf("voided session still listed")
		}
		if round == 1 {
			if n := countRows(t, e, `SELECT failed_logins FROM users WHERE id = ?`, u.ID); n != 5 {
				t.Fatalf("failed codes not counted as failed sign-ins: %d", n)
			}
		}
	}
	// Ten wrong codes in two attempts: the account is locked, and even the right password is refused.
	resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("right password after ten wrong codes: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'mfa.fail' AND actor_id = ?`, u.ID); n != 10 {
		t.Errorf("%d mfa.fail entries", n)
	}
	// The lock ends; the right code then passes and clears the counts.
	e.clock.Advance(2 * time.Minute)
	e.loginPassword(u.Email, testPassword)
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now())}}, nil)
	if resp.StatusCode != 303 || location(resp) == "/login" {
		t.Fatalf("right code after the lock: %d %q", resp.StatusCode, location(resp))
	}
	if n := countRows(t, e, `SELECT mfa_failures + failed_logins FROM users WHERE id = ?`, u.ID); n != 0 {
		t.Errorf("counts not cleared: %d", n)
	}
}

// The page the person asked for before signing in is where they land after the second factor.
func TestNextSurvivesTheSecondFactor(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	resp, _ := e.get("/orgs", nil)
	if location(resp) != "/login?next=%2Forgs" {
		t.Fatalf("signed out: %q", location(resp))
	}
	resp, _ = e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}, "next": {"/orgs"}}, nil)
	mustRedirect(t, "password", resp, "/mfa")
	resp, _ = e.post("/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now())}}, nil)
	mustRedirect(t, "second factor", resp, "/orgs")
}
