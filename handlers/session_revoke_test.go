package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
)

// An ended session stays ended, also when one of its requests is running at the moment it is ended
// (security.md, Sessions; issue 10, finding 1). Each test keeps requests of session A in flight, ends A
// through the real pages, and then asks with A's cookie again.

// pinnedSession sends requests with one fixed session cookie and no cookie jar: what a browser sends
// whose earlier request was still running when its session was ended.
type pinnedSession struct {
	e     *testEnv
	token string
	c     *http.Client
}

func (e *testEnv) pin() *pinnedSession {
	e.t.Helper()
	tok := e.sessionToken()
	if tok == "" {
		e.t.Fatal("no session cookie to pin")
	}
	return &pinnedSession{e: e, token: tok, c: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request with the pinned cookie and returns the status and the redirect target.
func (p *pinnedSession) do(method, path string, form url.Values) (int, string, error) {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, p.e.URL(path), body)
	if err != nil {
		return 0, "", err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: p.e.srv.sm.Cookie.Name, Value: p.token})
	resp, err := p.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// mustBeOut fails unless the pinned session signs nobody in: its person's pages send it to the sign-in.
func (p *pinnedSession) mustBeOut(t *testing.T, what string) {
	t.Helper()
	for _, path := range []string{"/profile", "/security", "/mfa/setup/totp"} {
		status, loc, err := p.do(http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != 303 || !strings.HasPrefix(loc, "/login") {
			t.Fatalf("%s: the ended session still reaches %s: %d → %q", what, path, status, loc)
		}
	}
}

// hammer keeps n requests of the pinned session in flight, each changing the person's settings and
// saving the session (a flash for the next page), until the returned stop is called. It waits until a
// few went through, so the revocation that follows meets requests in flight.
func (p *pinnedSession) hammer(t *testing.T, n int) (stop func()) {
	t.Helper()
	var wg sync.WaitGroup
	done := make(chan struct{})
	var through atomic.Int64
	var errs sync.Map
	form := url.Values{"name": {"Anna"}, "lang": {"en"}, "tz": {"Europe/Berlin"}, "theme": {"light"}}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				status, loc, err := p.do(http.MethodPost, "/profile", form)
				if err != nil {
					errs.Store(err.Error(), true)
					return
				}
				if status == 303 && loc == "/profile" {
					through.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for through.Load() < int64(2*n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if through.Load() < int64(2*n) {
		close(done)
		wg.Wait()
		t.Fatalf("the session's requests did not go through before the revocation (%d)", through.Load())
	}
	return func() {
		close(done)
		wg.Wait()
		errs.Range(func(k, _ any) bool { t.Errorf("request of the pinned session: %v", k); return true })
	}
}

const revokeRounds = 4

// The password is changed in session B while session A keeps saving itself: A is signed out every time
// and stays out, B stays in, and A is not hidden from the session list.
func TestRevokedSessionStaysEndedAfterPasswordChange(t *testing.T) {
	e := newTestEnv(t)
	anna := e.createUser("anna@muster.example", "Anna", "", nil)
	passwords := []string{testPassword, "Kaffee-Tasse#7391"}
	e.login(anna.Email, testPassword)
	b := e.client.Jar
	for round := 0; round < revokeRounds; round++ {
		cur, next := passwords[round%2], passwords[(round+1)%2]
		e.newClient()
		e.login(anna.Email, cur)
		a := e.pin()
		e.client.Jar = b

		stop := a.hammer(t, 4)
		resp, _ := e.post("/profile/password", url.Values{"current_password": {cur}, "new_password": {next}, "new_password2": {next}}, nil)
		stop()
		mustRedirect(t, fmt.Sprintf("round %d: change", round), resp, "/profile")

		a.mustBeOut(t, fmt.Sprintf("round %d", round))
		if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
			t.Fatalf("round %d: the session that changed the password was signed out: %d", round, resp.StatusCode)
		}
		// Still out after a later revocation has come and gone, and after more of A's requests.
		resp, _ = e.post("/profile/sessions/end-others", nil, nil)
		mustRedirect(t, fmt.Sprintf("round %d: end others", round), resp, "/profile")
		a.mustBeOut(t, fmt.Sprintf("round %d, later", round))
		if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, anna.ID); n != 1 {
			t.Fatalf("round %d: %d sessions listed, want only B's", round, n)
		}
		// Nothing of A is left in the store either: no row the list does not know of.
		if n := countRows(t, e, `SELECT count(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM user_sessions us WHERE us.hash = s.hash)
			AND hash = ?`, db.SessionHash(a.token)); n != 0 {
			t.Fatalf("round %d: the ended session's data was saved again", round)
		}
	}
}

// "Sign out everywhere" in session B while session A keeps saving itself.
func TestRevokedSessionStaysEndedAfterSignOutEverywhere(t *testing.T) {
	e := newTestEnv(t)
	anna := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(anna.Email, testPassword)
	b := e.client.Jar
	for round := 0; round < revokeRounds; round++ {
		e.newClient()
		e.login(anna.Email, testPassword)
		a := e.pin()
		e.client.Jar = b

		stop := a.hammer(t, 4)
		resp, _ := e.post("/profile/sessions/end-others", nil, nil)
		stop()
		mustRedirect(t, fmt.Sprintf("round %d: end others", round), resp, "/profile")

		a.mustBeOut(t, fmt.Sprintf("round %d", round))
		if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
			t.Fatalf("round %d: the session that signed out the others was signed out: %d", round, resp.StatusCode)
		}
	}
}

// Staff reset the person's second factors while session A keeps saving itself: A, which had passed the
// second factor, is signed out and cannot reach enrolment (it would enrol a factor of its own).
func TestRevokedSessionStaysEndedAfterStaffMFAReset(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.login("ada@msp.example", testPassword)
	staff := e.client.Jar
	for round := 0; round < revokeRounds; round++ {
		if round > 0 {
			e.enrolTestTOTP(anna.ID)
		}
		e.newClient()
		e.login(anna.Email, testPassword)
		a := e.pin()
		e.client.Jar = staff

		stop := a.hammer(t, 4)
		resp, _ := e.post("/staff/users/"+itoa64(anna.ID)+"/mfa-reset", url.Values{"next": {"/staff/people"}}, nil)
		stop()
		mustRedirect(t, fmt.Sprintf("round %d: reset", round), resp, "/staff/people")

		a.mustBeOut(t, fmt.Sprintf("round %d", round))
		if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, anna.ID); n != 0 {
			t.Fatalf("round %d: %d factors after the reset", round, n)
		}
	}
}

// The person is disabled while session A keeps saving itself, then enabled again: A stays out.
func TestRevokedSessionStaysEndedAfterDisabling(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.login("ada@msp.example", testPassword)
	staff := e.client.Jar
	for round := 0; round < revokeRounds; round++ {
		e.newClient()
		e.login(anna.Email, testPassword)
		a := e.pin()
		e.client.Jar = staff

		stop := a.hammer(t, 4)
		resp, _ := e.post("/o/muster/people/"+itoa64(anna.ID)+"/disable", nil, nil)
		stop()
		if resp.StatusCode != 303 {
			t.Fatalf("round %d: disable: %d", round, resp.StatusCode)
		}
		resp, _ = e.post("/o/muster/people/"+itoa64(anna.ID)+"/enable", nil, nil)
		if resp.StatusCode != 303 {
			t.Fatalf("round %d: enable: %d", round, resp.StatusCode)
		}
		a.mustBeOut(t, fmt.Sprintf("round %d, enabled again", round))
	}
}

// A sign-in that checked the old password before the password was changed, and lists its session after
// the change, signs nobody in: the session epoch it read is gone. The test holds the database's single
// writer while the sign-in runs, so the sign-in reads the person before the change and writes after it.
func TestSignInRacingPasswordChangeIsEnded(t *testing.T) {
	e := newTestEnv(t)
	anna := e.createUser("anna@muster.example", "Anna", "", nil)
	ctx := context.Background()
	phc, err := e.tc.Hasher.Hash(ctx, "Kaffee-Tasse#7391")
	if err != nil {
		t.Fatal(err)
	}
	e.newClient()
	type answer struct {
		status int
		loc    string
	}
	got := make(chan answer, 1)
	err = e.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetPassword(ctx, tx, e.clock.Now(), anna.ID, phc); err != nil {
			return err
		}
		go func() {
			req, _ := http.NewRequest(http.MethodPost, e.URL("/login"),
				strings.NewReader(url.Values{"email": {anna.Email}, "password": {testPassword}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := e.client.Do(req)
			if err != nil {
				got <- answer{}
				return
			}
			resp.Body.Close()
			got <- answer{resp.StatusCode, resp.Header.Get("Location")}
		}()
		// The sign-in reads the person and checks the old password on the reader pool, then waits for
		// the writer this transaction holds.
		time.Sleep(time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.status == 303 && a.loc == "/mfa" {
		// The password step passed (with the password of before the change): the session must not be
		// one of Anna's.
		if resp, _ := e.get("/mfa", nil); resp.StatusCode != 303 || !strings.HasPrefix(location(resp), "/login") {
			t.Fatalf("a sign-in with the old password survived the change: /mfa %d → %q", resp.StatusCode, location(resp))
		}
	} else if a.status != 401 {
		t.Fatalf("sign-in: %d → %q", a.status, a.loc)
	}
	if n := countRows(t, e, `SELECT count(*) FROM user_sessions us JOIN users u ON u.id = us.user_id
		WHERE us.user_id = ? AND us.epoch = u.session_epoch`, anna.ID); n != 0 {
		t.Fatalf("%d live sessions after the change", n)
	}
}

// An enrolment that was in flight when staff reset the person's second factors adds no factor after the
// reset: the holder of the ended session cannot bring a factor of their own through. As above, the test
// holds the database's single writer while the enrolment runs.
func TestEnrolmentRacingStaffMFAResetAddsNothing(t *testing.T) {
	e := newTestEnv(t)
	anna := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(anna.Email, testPassword)
	resp, body := e.get("/mfa/setup/totp", nil)
	mustStatus(t, "totp page", resp, body, 200)
	key := strings.ReplaceAll(doc(t, body).Find(`[data-testid=totp-key]`).Text(), " ", "")
	secret, err := b32.DecodeString(key)
	if err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
	code := auth.TOTPCode(secret, auth.TOTPStep(e.clock.Now()))
	ctx := context.Background()
	got := make(chan int, 1)
	err = e.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.ResetMFA(ctx, tx, anna.ID); err != nil {
			return err
		}
		go func() {
			resp, _ := e.post("/mfa/setup/totp", url.Values{"name": {"Not Anna's phone"}, "code": {code}}, nil)
			got <- resp.StatusCode
		}()
		time.Sleep(time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	status := <-got
	if n := countRows(t, e, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, anna.ID); n != 0 {
		t.Fatalf("a factor was added after the reset (enrolment answered %d)", status)
	}
	e.pin().mustBeOut(t, "after the reset")
}
