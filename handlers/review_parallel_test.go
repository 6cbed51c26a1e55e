package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/db"
)

// One-time things under parallel requests, found in the review of every route: each is consumed once,
// however many requests race for it. Named TestParallel… so CI runs them under -race.

// Forty posts of the first-administrator form at once through the same setup link, each with another
// address: one administrator is invited, the others find the link used.
func TestParallelFirstAdminSetupLink(t *testing.T) {
	e := newTestEnv(t)
	link, err := e.srv.accounts.FirstAdminLink(context.Background())
	if err != nil || link == "" {
		t.Fatalf("link %q %v", link, err)
	}
	path := strings.TrimPrefix(link, e.ts.URL)
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(newBrowser(), path, url.Values{"email": {fmt.Sprintf("admin%d@msp.example", i)},
			"name": {fmt.Sprintf("Admin %d", i)}, "lang": {"en"}})
	})
	if n := countStatus(got, http.StatusSeeOther); n != 1 {
		t.Fatalf("%d of %d setup posts were accepted, want 1: %v", n, burst, got)
	}
	if n := countStatus(got, http.StatusGone); n != burst-1 {
		t.Fatalf("%d of %d setup posts found the link used, want %d: %v", n, burst, burst-1, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM invitations WHERE role = 'admin'`); n != 1 {
		t.Fatalf("%d administrator invitations, want 1", n)
	}
}

// passed counts the answers of a burst of second-factor posts that let the person in (a redirect that is
// neither back to the sign-in nor to the second factor again).
func passed(as []answer) int {
	n := 0
	for _, a := range as {
		if a.status == http.StatusSeeOther && a.location != "/login" && !strings.HasPrefix(a.location, "/mfa") {
			n++
		}
	}
	return n
}

// signedInBrowsers are n browsers that each passed the password step of u.
func (e *testEnv) passwordStepBrowsers(n int, email string) []*http.Client {
	e.t.Helper()
	cs := make([]*http.Client, n)
	for i := range cs {
		cs[i] = newBrowser()
		a, err := e.postAs(cs[i], "/login", url.Values{"email": {email}, "password": {testPassword}})
		if err != nil || a.status != http.StatusSeeOther || a.location != "/mfa" {
			e.t.Fatalf("password step %d: %v %v", i, a, err)
		}
	}
	return cs
}

// One recovery code sent from forty browsers at once (each past the password step): it lets one of them
// in, and is spent.
func TestParallelOneRecoveryCode(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(u.Email, testPassword)
	_, codes := e.enrolTOTPFlow(t)
	e.post("/mfa/recovery/done", nil, nil)
	browsers := e.passwordStepBrowsers(burst, u.Email)
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(browsers[i], "/mfa", url.Values{"use": {"recovery"}, "code": {codes[0]}})
	})
	if n := passed(got); n != 1 {
		t.Fatalf("one recovery code let %d of %d browsers in, want 1: %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, u.ID); n != 9 {
		t.Fatalf("%d codes left, want 9", n)
	}
}

// One authenticator code sent from forty browsers at once: one gets in, the others meet a used time step.
func TestParallelOneTOTPCode(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	browsers := e.passwordStepBrowsers(burst, u.Email)
	good := code(e.clock.Now())
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(browsers[i], "/mfa", url.Values{"use": {"totp"}, "code": {good}})
	})
	if n := passed(got); n != 1 {
		t.Fatalf("one authenticator code let %d of %d browsers in, want 1: %v", n, burst, got)
	}
}

// One reset link posted forty times at once, each with another new password: one sets the password, the
// others find the link used, and the password that works is the one that was set.
func TestParallelOneResetLink(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.forgot(u.Email)
	link := lastResetLink(t, e, u.Email)
	got := e.fire(burst, func(i int) (answer, error) {
		pw := fmt.Sprintf("Neues-Fenster#%04d", i)
		return e.postAs(newBrowser(), link, pwValues("", pw, pw, false))
	})
	if n := countStatus(got, http.StatusOK); n != 1 {
		t.Fatalf("%d of %d posts of one reset link set a password, want 1: %v", n, burst, got)
	}
	if n := countStatus(got, http.StatusGone); n != burst-1 {
		t.Fatalf("%d of %d posts found the link used, want %d: %v", n, burst, burst-1, got)
	}
	for i, a := range got {
		if a.status != http.StatusOK {
			continue
		}
		pw := fmt.Sprintf("Neues-Fenster#%04d", i)
		if a, _ := e.postAs(newBrowser(), "/login", url.Values{"email": {u.Email}, "password": {pw}}); a.status != http.StatusSeeOther {
			t.Fatalf("the password of the accepted post does not sign in: %v", a)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'password.reset' AND actor_id = ?`, u.ID); n != 1 {
		t.Fatalf("password.reset audited %d times", n)
	}
}

// One confirmation link's button sent forty times at once: one switches the address (one audit entry),
// the others find the link used.
func TestParallelOneConfirmationLink(t *testing.T) {
	e := newTestEnv(t)
	u, link := pendingAddressLink(t, e)
	got := e.fire(burst, func(int) (answer, error) {
		resp, err := newBrowser().PostForm(e.URL(link), nil)
		if err != nil {
			return answer{}, err
		}
		resp.Body.Close()
		return answer{resp.StatusCode, location(resp)}, nil
	})
	if n := countStatus(got, http.StatusOK); n != 1 || countStatus(got, http.StatusGone) != burst-1 {
		t.Fatalf("%d of %d confirmed, want 1 and the others 410: %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'email.confirmed' AND actor_id = ?`, u.ID); n != 1 {
		t.Fatalf("email.confirmed audited %d times", n)
	}
}

// postJSONAs sends a ceremony answer with client; safe to call from any goroutine.
func (e *testEnv) postJSONAs(client *http.Client, path string, body []byte) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, e.URL(path), bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	var out passkeyJSON
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return answer{}, fmt.Errorf("%s: %d: %w", path, resp.StatusCode, err)
	}
	return answer{resp.StatusCode, out.Redirect}, nil
}

// One passkey answer to one challenge, sent forty times at once from the browser that asked for it, by
// an authenticator that does not count (synced passkeys keep the counter at 0, so the counter check
// cannot tell a replay): one sign-in, one new session. The challenge is spent once, in the database.
func TestParallelOnePasskeyAnswer(t *testing.T) {
	e := newTestEnv(t, withLocalhost)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	a := newSoftAuthenticator(t, e)
	e.loginPassword(u.Email, testPassword)
	e.registerPasskey(a, "Laptop")
	e.post("/mfa/recovery/done", nil, nil)
	e.post("/logout", nil, nil)
	sessionsBefore := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID)

	browser := newBrowser()
	begin, err := e.postAs(browser, "/login/passkey/begin", nil)
	if err != nil || begin.status != http.StatusOK {
		t.Fatalf("begin: %v %v", begin, err)
	}
	// postAs discards the body: ask again for the options, with the same browser, and read them.
	req, _ := http.NewRequest(http.MethodPost, e.URL("/login/passkey/begin"), nil)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.count = ^uint32(0) // get() counts up first: the answer carries 0, like a non-counting authenticator
	answerBody := a.get(parseOptions(t, string(raw)))
	got := e.fire(burst, func(int) (answer, error) {
		return e.postJSONAs(browser, "/login/passkey/finish", answerBody)
	})
	signedIn := 0
	for _, g := range got {
		if g.location != "" {
			signedIn++
		}
	}
	if signedIn != 1 {
		t.Fatalf("one passkey answer signed in %d of %d times, want 1: %v", signedIn, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID) - sessionsBefore; n != 1 {
		t.Fatalf("one passkey answer made %d sessions, want 1", n)
	}
}

// The right e-mail code sent forty times at once in its sign-in attempt: it passes once (one new signed-in
// session), and is spent.
func TestParallelOneEmailCode(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	use := "email-" + itoa64(e.enrolEmailMethod(u.ID, u.Email))
	e.loginPassword(u.Email, testPassword)
	e.get("/mfa?use="+use, nil)
	good := e.mailedCode(u.Email)
	got := e.fire(burst, func(int) (answer, error) {
		return e.postAs(e.client, "/mfa", url.Values{"use": {use}, "code": {good}})
	})
	if n := passed(got); n != 1 {
		t.Fatalf("one e-mail code passed %d of %d times, want 1: %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM email_codes WHERE user_id = ? AND used_at IS NULL`, u.ID); n != 0 {
		t.Fatalf("%d e-mail codes still live", n)
	}
}

// Forty parallel re-sends of one invitation by its organisation's manager: one new link, the old one dead,
// so the person has exactly one live invitation there (each re-send used to copy the invitation again,
// leaving forty live links).
func TestParallelResendsOfOneInvitation(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	o := e.createOrg("Muster GmbH", "muster")
	mgr := e.createUser("mia@muster.example", "Mia", "", map[int64]string{o.ID: "manager"})
	e.invite("neu@muster.example", "Neu", o.ID, "viewer", "en")
	var id int64
	if err := e.db.R.QueryRow(`SELECT id FROM invitations WHERE org_id = ?`, o.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	browser := newBrowser()
	if a, err := e.postAs(browser, "/login", url.Values{"email": {mgr.Email}, "password": {testPassword}}); err != nil || a.location != "/mfa" {
		t.Fatalf("sign-in: %v %v", a, err)
	}
	if a, err := e.postAs(browser, "/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now())}}); err != nil || a.status != http.StatusSeeOther {
		t.Fatalf("second factor: %v %v", a, err)
	}
	got := e.fire(burst, func(int) (answer, error) {
		return e.postAs(browser, fmt.Sprintf("/o/muster/invitations/%d/resend", id), nil)
	})
	if n := countStatus(got, http.StatusSeeOther); n != 1 {
		t.Errorf("%d of %d re-sends went through, want 1: %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM invitations WHERE org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, o.ID); n != 1 {
		t.Fatalf("%d live invitations after parallel re-sends, want 1", n)
	}
	// Forty invitations of one new address at once, half as manager, half as viewer: one live invitation.
	e.fire(burst, func(i int) (answer, error) {
		role := []string{"manager", "viewer"}[i%2]
		return e.postAs(browser, "/o/muster/people/invite", url.Values{"email": {"zwei@muster.example"}, "name": {"Zwei"},
			"role": {role}, "lang": {"de"}})
	})
	if n := countRows(t, e, `SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = 'zwei@muster.example'
		AND i.accepted_at IS NULL AND i.revoked_at IS NULL`); n != 1 {
		t.Fatalf("%d live invitations after parallel invitations of one address, want 1", n)
	}
}

// signedIn is a browser of u past both factors.
func (e *testEnv) signedInBrowser(u string) *http.Client {
	e.t.Helper()
	b := newBrowser()
	if a, err := e.postAs(b, "/login", url.Values{"email": {u}, "password": {testPassword}}); err != nil || a.location != "/mfa" {
		e.t.Fatalf("sign-in %s: %v %v", u, a, err)
	}
	if a, err := e.postAs(b, "/mfa", url.Values{"use": {"totp"}, "code": {code(e.clock.Now())}}); err != nil || a.status != http.StatusSeeOther {
		e.t.Fatalf("second factor %s: %v %v", u, a, err)
	}
	return b
}

// Two administrators disabling each other, twenty times each, at the same moment: one of them stays
// enabled (the last enabled administrator is never disabled).
func TestParallelAdminsDisableEachOther(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createUser("ada@msp.example", "Ada", "admin", nil)
	b := e.createUser("bea@msp.example", "Bea", "admin", nil)
	ba := e.signedInBrowser(a.Email)
	e.clock.Advance(30 * time.Second) // the next step: Ada's code is spent
	bb := e.signedInBrowser(b.Email)
	e.fire(burst, func(i int) (answer, error) {
		if i%2 == 0 {
			return e.postAs(ba, fmt.Sprintf("/staff/people/%d/disable", b.ID), nil)
		}
		return e.postAs(bb, fmt.Sprintf("/staff/people/%d/disable", a.ID), nil)
	})
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE staff_role = 'admin' AND disabled_at IS NULL`); n != 1 {
		t.Fatalf("%d administrators enabled after they disabled each other, want 1", n)
	}
}

// Pages of an organisation asked for over and over in parallel while the person's access goes: their
// role is lowered, they are disabled (with or without their sessions ended), their sessions are ended,
// staff are disabled. The person, the organisation and their role there are read with the session at the
// start of each request; every request sent after the change has returned is refused (404 for a page the
// role no longer opens, a redirect to sign in otherwise), whichever way the requests interleave.
func TestParallelRequestsAfterAccessGoesAreRefused(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	pw := itoa64(f.items["passwords"])
	for _, c := range []struct {
		name   string
		role   string // staff role, or "" for a customer
		member string // the customer's role in Alpha
		path   string
		change func(uid int64) error
		want   int
	}{
		{"a manager made viewer", "", "manager", "/o/alpha/people", func(uid int64) error {
			return e.db.SetMemberRole(ctx, uid, f.a.ID, "viewer")
		}, http.StatusNotFound},
		{"a manager made viewer, the audit log", "", "manager", "/o/alpha/audit", func(uid int64) error {
			return e.db.SetMemberRole(ctx, uid, f.a.ID, "viewer")
		}, http.StatusNotFound},
		{"a viewer disabled", "", "viewer", "/o/alpha/docs/passwords/" + pw, func(uid int64) error {
			return e.db.SetDisabled(ctx, uid, true)
		}, http.StatusSeeOther},
		{"a viewer marked disabled, sessions kept", "", "viewer", "/o/alpha/docs/passwords", func(uid int64) error {
			return e.db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = 1 WHERE id = ?`, uid)
				return err
			})
		}, http.StatusSeeOther},
		{"a viewer whose sessions are ended", "", "viewer", "/o/alpha/export/passwords", func(uid int64) error {
			return e.db.EndOtherSessions(ctx, uid, "")
		}, http.StatusSeeOther},
		{"a technician disabled", "technician", "", "/o/beta/docs/passwords", func(uid int64) error {
			return e.db.SetDisabled(ctx, uid, true)
		}, http.StatusSeeOther},
		{"a technician with a membership, disabled", "technician", "viewer", "/o/alpha/people", func(uid int64) error {
			return e.db.SetDisabled(ctx, uid, true)
		}, http.StatusSeeOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			ms := map[int64]string{}
			if c.member != "" {
				ms[f.a.ID] = c.member
			}
			u := e.createUser(strings.ReplaceAll(strings.ReplaceAll(c.name, " ", "-"), ",", "")+"@example.com", "P", c.role, ms)
			f.as(u)
			client := e.client
			var changed atomic.Bool
			var ok, after atomic.Int32
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for i := 0; i < 400 && after.Load() < 40; i++ {
						was := changed.Load()
						resp, err := client.Get(e.URL(c.path))
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						// A request sent before the change may be answered either way: it may have read the
						// session before or after the change committed.
						switch {
						case !was:
							if resp.StatusCode == http.StatusOK {
								ok.Add(1)
							}
						case resp.StatusCode != c.want:
							t.Errorf("sent after the change: %d, want %d", resp.StatusCode, c.want)
						default:
							after.Add(1)
						}
					}
				})
			}
			for i := 0; ok.Load() < 8 && i < 500; i++ {
				time.Sleep(2 * time.Millisecond)
			}
			if err := c.change(u.ID); err != nil {
				t.Fatal(err)
			}
			changed.Store(true)
			wg.Wait()
			if ok.Load() < 8 || after.Load() < 40 {
				t.Fatalf("%d answers before the change, %d after", ok.Load(), after.Load())
			}
		})
	}
}

// pendingAddressLink makes a person whose new address waits for confirmation (neu@muster.example instead
// of alt@muster.example) and returns them with the link mailed to the new address.
func pendingAddressLink(t *testing.T, e *testEnv) (*db.User, string) {
	t.Helper()
	u := e.createUser("alt@muster.example", "Anna", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET pending_email = 'neu@muster.example' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	e.post("/confirm/resend", url.Values{"email": {"neu@muster.example"}}, nil)
	return u, linkIn(t, e.lastMailTo("neu@muster.example"))
}
