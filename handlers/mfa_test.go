package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
	"portier/signin"
)

// Fixtures of the second-factor tests. createUser gives everyone an authenticator app with this secret,
// so the other tests' people can sign in; e.login marks the second factor as passed in the session.

var testTOTPSecret = []byte("portier-test-secret!") // 20 bytes = 160 bits

// enrolTestTOTP gives a person an authenticator app with testTOTPSecret.
func (e *testEnv) enrolTestTOTP(uid int64) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.AddTOTP(ctx, tx, e.srv.cfg.Sealer, e.clock.Now(), uid, "Test phone", testTOTPSecret, 0)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// sessionToken is the session cookie of the env's client.
func (e *testEnv) sessionToken() string {
	u, _ := url.Parse(e.ts.URL)
	for _, ck := range e.client.Jar.Cookies(u) {
		if ck.Name == e.srv.sm.Cookie.Name {
			return ck.Value
		}
	}
	return ""
}

// passSecondFactor marks the client's session as having passed the second factor, for tests of other
// features. The second-factor tests go through the real pages instead.
func (e *testEnv) passSecondFactor() {
	e.t.Helper()
	ctx, err := e.srv.sm.Load(context.Background(), e.sessionToken())
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.sm.Put(ctx, keyMFAOK, true)
	if _, _, err := e.srv.sm.Commit(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// loginPassword passes only the password step and returns where the sign-in sent the person.
func (e *testEnv) loginPassword(email, password string) string {
	e.t.Helper()
	resp, body := e.post("/login", url.Values{"email": {email}, "password": {password}}, nil)
	if resp.StatusCode != 303 {
		e.t.Fatalf("login %s: status %d\n%.500s", email, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// createUserNoMFA is createUser without any second factor (a new or reset account).
func (e *testEnv) createUserNoMFA(email, name, staffRole string, memberships map[int64]string) *db.User {
	e.t.Helper()
	u := e.createUser(email, name, staffRole, memberships)
	if _, err := e.db.W.Exec(`DELETE FROM mfa_methods WHERE user_id = ?`, u.ID); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// code is the authenticator-app code of the test secret at time t.
func code(t time.Time) string { return auth.TOTPCode(testTOTPSecret, auth.TOTPStep(t)) }

var mailCodeRE = regexp.MustCompile(`(?m)^(\d{6})\s*$`)

// mailedCode returns the 6-digit code of the newest mail to addr.
func (e *testEnv) mailedCode(addr string) string {
	e.t.Helper()
	m := e.lastMailTo(addr)
	c := mailCodeRE.FindStringSubmatch(m.Text)
	if c == nil {
		e.t.Fatalf("no code in mail %q:\n%s", m.Subject, m.Text)
	}
	return c[1]
}

func location(r *http.Response) string {
	if l := r.Header.Get("HX-Redirect"); l != "" {
		return l
	}
	return r.Header.Get("Location")
}

func en2(hdr map[string]string) map[string]string {
	if hdr == nil {
		hdr = map[string]string{}
	}
	hdr["Accept-Language"] = "en"
	return hdr
}

func mustStatus(t *testing.T, what string, r *http.Response, body string, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s: status %d, want %d (location %q)\n%.600s", what, r.StatusCode, status, location(r), body)
	}
}

func mustRedirect(t *testing.T, what string, r *http.Response, to string) {
	t.Helper()
	if (r.StatusCode != 303 && r.StatusCode != 204) || location(r) != to {
		t.Fatalf("%s: %d → %q, want → %q", what, r.StatusCode, location(r), to)
	}
}

func countRows(t *testing.T, e *testEnv, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func hasText(body, s string) bool { return strings.Contains(body, s) }

// ---- the second factor guards everything ----

// publicRoute lists what anyone may reach, signed in or not, and the second-factor pages themselves.
func publicRoute(method, path string) bool {
	switch method + " " + path {
	case "GET /", "POST /lang", "POST /theme", "GET /healthz", "GET /readyz", "GET /login", "POST /login", "GET /terms",
		"POST /terms", "POST /logout", "POST /confirm/resend", "GET /forgot", "POST /forgot", "POST /password/check",
		"GET /msp-logo/:name",                   // the MSP's logo is in the header of the sign-in page too
		"POST /login/idp", "GET /oidc/callback": // a provider sign-in is a new sign-in (oidc.go)
		return true
	}
	for _, p := range []string{"/static/", "/confirm/:", "/invite/", "/reset/", "/setup/", "/login/passkey/", "/mfa", "/.well-known/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// A session that passed the password but not the second factor reaches nothing but the second-factor
// pages: every other route of the router (documentation, staff, profile, security …), with and without
// HX-Request, answers a redirect to /mfa — never a page.
func TestEveryRouteWaitsForTheSecondFactor(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	manager := e.createUser("mia@muster.example", "Mia Manager", "", map[int64]string{o.ID: "manager"})
	for _, u := range []*db.User{admin, manager} {
		e.newClient()
		if loc := e.loginPassword(u.Email, testPassword); loc != "/mfa" {
			t.Fatalf("%s after the password: %q", u.Email, loc)
		}
		checked := 0
		for _, r := range e.srv.e.Router().Routes() {
			if publicRoute(r.Method, r.Path) || r.Method == "HEAD" || r.Method == "OPTIONS" {
				continue
			}
			m := itoa64(manager.ID)
			path := routeURL(r.Path, r.Parameters, map[string]string{"slug": "muster", "id": m, "uid": m, "item": m,
				"area": "passwords", "field": "password"})
			method := r.Method
			if method == "echo_route_not_found" { // a catch-all "not found" of a group: try it with GET
				method = http.MethodGet
			}
			for _, hx := range []map[string]string{nil, {"HX-Request": "true"}} {
				resp, body := e.do(method, path, strings.NewReader(""), hx)
				want := 303
				if hx != nil {
					want = 204
				}
				if resp.StatusCode != want || location(resp) != "/mfa" {
					t.Errorf("%s: %s %s (hx=%v): %d → %q\n%.200s", u.Email, r.Method, path, hx != nil, resp.StatusCode, location(resp), body)
				}
				checked++
			}
		}
		if checked < 20 {
			t.Fatalf("only %d requests checked: is the route table empty?", checked)
		}
	}
}

// No authenticator-app secret, e-mail code or recovery code is stored or logged in the clear: after
// enrolling and using each, the database file (with its write-ahead log) and the log do not contain them.
func TestNoSecondFactorSecretInDatabaseOrLog(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	anna := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(anna.Email, testPassword)
	// The pending secret is in the session (sealed) while the page is open …
	_, body := e.get("/mfa/setup/totp", nil)
	pendingKey := strings.ReplaceAll(doc(t, body).Find(`[data-testid=totp-key]`).Text(), " ", "")
	secret, codes := e.enrolTOTPFlow(t)
	e.post("/mfa/recovery/done", nil, nil)
	if b32.EncodeToString(secret) != pendingKey {
		t.Fatalf("enrolled another secret than shown")
	}
	e.post("/logout", nil, nil)
	e.loginPassword(anna.Email, testPassword)
	e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[0]}}, nil)

	ben := e.createUserNoMFA("ben@muster.example", "Ben", "", map[int64]string{o.ID: "viewer"})
	e.newClient()
	e.loginPassword(ben.Email, testPassword)
	e.post("/mfa/setup/email", url.Values{"to": {"own"}}, nil)
	enrolCode := e.mailedCode(ben.Email)
	e.post("/mfa/setup/email/verify", url.Values{"code": {enrolCode}}, nil)
	e.post("/mfa/recovery/done", nil, nil)
	e.post("/logout", nil, nil)
	e.clock.Advance(2 * time.Minute)
	e.loginPassword(ben.Email, testPassword)
	_, body = e.get("/mfa", nil)
	use, _ := doc(t, body).Find(`input[name=use]`).First().Attr("value")
	loginCode := e.mailedCode(ben.Email)
	resp, _ := e.post("/mfa", url.Values{"use": {use}, "code": {loginCode}}, nil)
	mustRedirect(t, "e-mail code", resp, "/o/muster")

	if _, err := e.db.W.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	var stored []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.db.Path + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		stored = append(stored, b...)
	}
	// Positive control: what is stored in the clear is found.
	if !bytes.Contains(stored, []byte(anna.Email)) || !bytes.Contains(stored, []byte("Work phone")) {
		t.Fatalf("the search does not find plain values (%d bytes read)", len(stored))
	}
	logs := e.logBuf.String()
	secrets := map[string][]byte{
		"TOTP secret (base32)": []byte(pendingKey),
		"TOTP secret (bytes)":  secret,
		"e-mail enrol code":    []byte(enrolCode),
		"e-mail sign-in code":  []byte(loginCode),
	}
	for i, c := range codes {
		secrets["recovery code "+mfaItoa(i)] = []byte(c)
		secrets["recovery code (typed) "+mfaItoa(i)] = []byte(signin.NormalizeRecovery(c))
	}
	for what, s := range secrets {
		if bytes.Contains(stored, s) {
			t.Errorf("%s is in the database file", what)
		}
		if strings.Contains(logs, string(s)) {
			t.Errorf("%s is in the log", what)
		}
	}
}
