package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portier/db"
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
func code(t time.Time) string { return totpCode(testTOTPSecret, totpStep(t)) }

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
