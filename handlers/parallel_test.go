package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"portier/auth"
	"portier/db"
)

// Limits hold under parallel requests: every attempt is reserved in the database before the password or
// code is checked, so a burst gets no more checks than the limit allows. Named TestParallel… so CI runs
// them under -race with -run TestParallel.

const burst = 40

// cheapHashing makes password hashing as cheap as the hasher allows, so that bursts of sign-ins stay fast
// under -race. What is counted does not depend on the cost.
func cheapHashing(c *testConfig) {
	p := auth.DefaultParams()
	p.Memory, p.Time = 8*1024, 1
	h, err := auth.NewHasherParams(p, 0)
	if err != nil {
		panic(err)
	}
	c.Hasher = h
}

// answer is what a request of a burst got back.
type answer struct {
	status   int
	location string
}

// newBrowser is a client with a cookie jar of its own (another browser) that does not follow redirects.
func newBrowser() *http.Client {
	jar, _ := newJar()
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postAs sends a form with client; safe to call from any goroutine.
func (e *testEnv) postAs(client *http.Client, path string, form url.Values) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, e.URL(path), strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return answer{resp.StatusCode, location(resp)}, nil
}

// fire sends n requests at once (released together) and returns their answers in order.
func (e *testEnv) fire(n int, send func(i int) (answer, error)) []answer {
	e.t.Helper()
	out := make([]answer, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

func countStatus(as []answer, status int) int {
	n := 0
	for _, a := range as {
		if a.status == status {
			n++
		}
	}
	return n
}

// wrongTOTP returns a six-digit code that no authenticator step within the accepted skew produces.
func (e *testEnv) wrongTOTP(i int) string {
	valid := map[string]bool{}
	st := auth.TOTPStep(e.clock.Now())
	for d := int64(-auth.TOTPSkew); d <= auth.TOTPSkew; d++ {
		valid[auth.TOTPCode(testTOTPSecret, st+d)] = true
	}
	for k := i; ; k++ {
		if c := fmt.Sprintf("%06d", (k*7919+13)%1000000); !valid[c] {
			return c
		}
	}
}

// Forty wrong passwords at once: only as many are checked (and counted) as the lock allows, and the right
// password that follows is refused because the account is locked. Before the reservation all forty were
// checked against the stored hash.
func TestParallelWrongPasswords(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})

	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(newBrowser(), "/login", url.Values{"email": {u.Email}, "password": {fmt.Sprintf("falsch-%d", i)}})
	})
	if n := countStatus(got, http.StatusUnauthorized); n != burst {
		t.Fatalf("%d of %d wrong passwords got the usual answer (401): %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT failed_logins FROM users WHERE id = ?`, u.ID); n > db.LockAfter {
		t.Fatalf("%d wrong passwords were checked, the lock allows %d", n, db.LockAfter)
	}
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE id = ? AND locked_until > ?`, u.ID, e.clock.Now().Unix()); n != 1 {
		t.Fatal("the account is not locked after the burst")
	}
	a, err := e.postAs(newBrowser(), "/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusUnauthorized {
		t.Fatalf("the right password after the burst: %d %s, want 401 (locked)", a.status, a.location)
	}
}

// Forty wrong authenticator codes at once from four signed-in browsers: at most as many codes are checked
// as the account lock allows (ten; five per sign-in attempt), and afterwards the right code passes in none
// of the browsers and the right password does not sign in (locked).
func TestParallelWrongTOTPCodes(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	const browsers = 4
	clients := make([]*http.Client, browsers)
	for i := range clients {
		clients[i] = newBrowser()
		a, err := e.postAs(clients[i], "/login", url.Values{"email": {u.Email}, "password": {testPassword}})
		if err != nil || a.status != http.StatusSeeOther || a.location != "/mfa" {
			t.Fatalf("password step %d: %v %v", i, a, err)
		}
	}
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(clients[i%browsers], "/mfa", url.Values{"use": {"totp"}, "code": {e.wrongTOTP(i)}})
	})
	for _, a := range got {
		if a.status == http.StatusSeeOther && a.location != "/login" {
			t.Fatalf("a wrong code passed: %v", a)
		}
	}
	// Every checked code was reserved first and, being wrong, stays counted: the count is the number of
	// codes checked.
	if n := countRows(t, e, `SELECT mfa_failures FROM users WHERE id = ?`, u.ID); n > db.LockAfter {
		t.Fatalf("%d wrong codes were checked, the lock allows %d", n, db.LockAfter)
	}
	good := code(e.clock.Now())
	for i, c := range clients {
		a, err := e.postAs(c, "/mfa", url.Values{"use": {"totp"}, "code": {good}})
		if err != nil {
			t.Fatal(err)
		}
		if a.status == http.StatusSeeOther && a.location != "/login" {
			t.Fatalf("browser %d: the right code passed after the burst (%v)", i, a)
		}
	}
	a, err := e.postAs(newBrowser(), "/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusUnauthorized {
		t.Fatalf("the right password after the burst: %v, want 401 (locked)", a)
	}
}

// Forty wrong e-mail codes at once in one sign-in attempt: five are checked, then the code and the
// attempt are void: the right code no longer passes and the person starts again with the password.
func TestParallelWrongEmailCodes(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	use := "email-" + itoa64(e.enrolEmailMethod(u.ID, u.Email))
	e.loginPassword(u.Email, testPassword)
	e.get("/mfa?use="+use, nil)
	good := e.mailedCode(u.Email)

	got := e.fire(burst, func(int) (answer, error) {
		return e.postAs(e.client, "/mfa", url.Values{"use": {use}, "code": {wrongCode(good)}})
	})
	for _, a := range got {
		if a.status == http.StatusSeeOther && a.location != "/login" {
			t.Fatalf("a wrong code passed: %v", a)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM email_codes WHERE user_id = ? AND tries = 5 AND used_at IS NULL`, u.ID); n != 1 {
		t.Fatalf("the code is not void after five wrong tries")
	}
	if n := countRows(t, e, `SELECT mfa_failures FROM users WHERE id = ?`, u.ID); n > db.EmailCodeMaxTries {
		t.Fatalf("%d wrong codes were checked in one attempt, five are allowed", n)
	}
	a, err := e.postAs(e.client, "/mfa", url.Values{"use": {use}, "code": {good}})
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusSeeOther || a.location != "/login" {
		t.Fatalf("the right code after five wrong ones: %v, want the attempt void (to /login)", a)
	}
	if a, _ := e.postAs(e.client, "/mfa", url.Values{"use": {use}, "code": {good}}); a.location != "/login" {
		t.Fatalf("the void attempt goes on: %v", a)
	}
}

// Forty failed sign-ins at once from one address (each for another unknown account, so no account lock
// interferes): the per-address throttle lets 30 through and answers the rest 429 with Retry-After.
func TestParallelIPThrottle(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(newBrowser(), "/login", url.Values{"email": {fmt.Sprintf("niemand%d@muster.example", i)}, "password": {"falsch"}})
	})
	if n := countStatus(got, http.StatusUnauthorized); n > db.IPMaxFailures {
		t.Fatalf("%d sign-ins were checked, the address may fail %d times", n, db.IPMaxFailures)
	}
	if n := countStatus(got, http.StatusUnauthorized) + countStatus(got, http.StatusTooManyRequests); n != burst {
		t.Fatalf("unexpected answers: %v", got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM ip_failures`); n > db.IPMaxFailures {
		t.Fatalf("%d failures recorded for the address", n)
	}
	resp, _ := e.post("/login", url.Values{"email": {"niemand@muster.example"}, "password": {"falsch"}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after the burst: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// The mail-sending endpoints under a burst: forty requests at once send one mail (60-second cooldown),
// for "forgot password", "send the confirmation again" and "send a new e-mail code".
func TestParallelMailCooldown(t *testing.T) {
	mailsTo := func(e *testEnv, addr string) int {
		n := 0
		for _, m := range e.mails() {
			if strings.EqualFold(m.To, addr) {
				n++
			}
		}
		return n
	}
	t.Run("forgot", func(t *testing.T) {
		e := newTestEnv(t)
		o := e.createOrg("Muster GmbH", "muster")
		u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
		got := e.fire(burst, func(int) (answer, error) {
			return e.postAs(newBrowser(), "/forgot", url.Values{"email": {u.Email}})
		})
		if n := countStatus(got, http.StatusOK); n != burst {
			t.Fatalf("%d of %d got the usual answer", n, burst)
		}
		if n := mailsTo(e, u.Email); n != 1 {
			t.Fatalf("%d reset mails, want 1", n)
		}
	})
	t.Run("confirm", func(t *testing.T) {
		e := newTestEnv(t)
		o := e.createOrg("Muster GmbH", "muster")
		u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
		if err := e.db.SetPendingEmail(e.t.Context(), u.ID, "neu@muster.example"); err != nil {
			t.Fatal(err)
		}
		got := e.fire(burst, func(int) (answer, error) {
			return e.postAs(newBrowser(), "/confirm/resend", url.Values{"email": {"neu@muster.example"}})
		})
		if n := countStatus(got, http.StatusOK); n != burst {
			t.Fatalf("%d of %d got the usual answer", n, burst)
		}
		if n := mailsTo(e, "neu@muster.example"); n != 1 {
			t.Fatalf("%d confirmation mails, want 1", n)
		}
	})
	t.Run("email code", func(t *testing.T) {
		e := newTestEnv(t)
		o := e.createOrg("Muster GmbH", "muster")
		u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
		use := "email-" + itoa64(e.enrolEmailMethod(u.ID, u.Email))
		e.loginPassword(u.Email, testPassword)
		got := e.fire(burst, func(int) (answer, error) {
			return e.postAs(e.client, "/mfa/email/send", url.Values{"use": {use}})
		})
		if n := countStatus(got, http.StatusOK); n != burst {
			t.Fatalf("%d of %d got the usual answer", n, burst)
		}
		if n := mailsTo(e, u.Email); n != 1 {
			t.Fatalf("%d code mails, want 1", n)
		}
	})
}
