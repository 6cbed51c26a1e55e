package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// Signing in with an address that still waits for confirmation (and the right password) explains that and
// offers to send the confirmation again (seed 003); it does not sign in and does not reveal anything to
// someone without the password.
func TestSignInWithPendingAddressOffersResend(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("alt@muster.example", "Anna", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET pending_email = 'neu@muster.example' WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := e.post("/login", url.Values{"email": {"neu@muster.example"}, "password": {testPassword}}, map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid="confirm-pending"]`).Length() != 1 || d.Find(`[data-testid="confirm-resend"]`).Length() != 1 {
		t.Fatalf("pending address sign-in: %d %.300s", resp.StatusCode, body)
	}
	if e.sessionToken() != "" {
		if r, _ := e.get("/orgs", nil); !strings.HasPrefix(location(r), "/login") {
			t.Fatal("signed in with an unconfirmed address")
		}
	}
	// Wrong password: the ordinary failure, nothing about the pending address.
	resp, body = e.post("/login", url.Values{"email": {"neu@muster.example"}, "password": {"falsch"}}, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 401 || strings.Contains(body, "confirm-pending") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	// Resend sends a confirmation link to the new address; the link switches the address.
	e.post("/confirm/resend", url.Values{"email": {"neu@muster.example"}}, nil)
	m := e.lastMailTo("neu@muster.example")
	resp, _ = e.confirmAddress(t, linkIn(t, m), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("confirm link: %d", resp.StatusCode)
	}
	got, _ := e.db.UserByID(context.Background(), u.ID)
	if got.Email != "neu@muster.example" || got.PendingEmail != "" {
		t.Fatalf("after confirming: %q pending %q", got.Email, got.PendingEmail)
	}
	// The same answer for an address nobody uses, and no mail.
	e.clock.Advance(2 * time.Minute)
	before := len(e.mails())
	resp, body = e.post("/confirm/resend", url.Values{"email": {"niemand@muster.example"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "confirm-pending") || len(e.mails()) != before {
		t.Fatalf("unknown address: %d, mails %d → %d", resp.StatusCode, before, len(e.mails()))
	}
}

// The confirmation link is its owner's authority, whoever's browser sends the button: the entry names the
// link's owner by id and by name. Before, the name was whoever was signed in on that browser (another
// person's name beside the owner's id) or empty when nobody was, and the log shows the name.
func TestConfirmationIsAuditedAsTheLinksOwner(t *testing.T) {
	for _, signedIn := range []bool{false, true} {
		e := newTestEnv(t)
		u, link := pendingAddressLink(t, e)
		if signedIn {
			b := e.createUser("bert@muster.example", "Bert", "", nil)
			e.login(b.Email, testPassword)
		}
		if resp, body := e.confirmAddress(t, link, nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm-done"`) {
			t.Fatalf("signed in %v: confirm: %d", signedIn, resp.StatusCode)
		}
		var id int64
		var name string
		if err := e.db.R.QueryRow(`SELECT actor_id, actor_name FROM audit WHERE action = 'email.confirmed'`).Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		if id != u.ID || name != "Anna" {
			t.Errorf("signed in as someone else %v: email.confirmed by %d %q, want %d \"Anna\"", signedIn, id, name, u.ID)
		}
	}
}

// A disabled account's confirmation link works no more than a revoked one, as its invitation and reset
// links do: the account must not change while it is switched off (a person leaving could otherwise move
// it to a private address before anyone enables it again). Before, the link switched the address.
func TestDisabledAccountsConfirmationLinkIsRevoked(t *testing.T) {
	e := newTestEnv(t)
	u, link := pendingAddressLink(t, e)
	if _, err := e.db.W.Exec(`UPDATE users SET disabled_at = 1 WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(link, nil)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, `data-testid="link-revoked"`) {
		t.Fatalf("the link of a disabled account: %d %.300s", resp.StatusCode, body)
	}
	resp, body = e.post(link, nil, nil)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, `data-testid="link-revoked"`) {
		t.Fatalf("the button of a disabled account's link: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE id = ? AND email = 'alt@muster.example' AND pending_email = 'neu@muster.example'`, u.ID); n != 1 {
		t.Fatal("a disabled account's address changed")
	}
}

// A confirmation link that stops working while its button's request is on its way — the account disabled,
// a newer link sent, the day running out — answers with the page the link's GET shows now, named by the
// state that refused it. Before, the state was read before the transaction that used the link, and the
// button said "already used" for a link nobody used (and switched a disabled account's address). The
// test holds the writer while the request looks at the link, changes the link's world in that moment,
// and lets the request's transaction go on.
func TestConfirmButtonNamesTheStateTheLinkHasWhenPressed(t *testing.T) {
	for _, c := range tokenRaces("confirm", 25*time.Hour) {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			u, link := pendingAddressLink(t, e)
			resp, page := e.get(link, nil)
			button, _ := doc(t, page).Find(`[data-testid="confirm-ask"] form[method="post"]`).Attr("action")
			if resp.StatusCode != http.StatusOK || button == "" {
				t.Fatalf("the link's page: %d", resp.StatusCode)
			}
			resp, body := e.whileWriterHeld(t, func() (*http.Response, string) { return e.post(button, nil, nil) },
				func(tx *sql.Tx) error { return c.meanwhile(e, tx, u) })
			getResp, getBody := e.get(link, nil)
			if doc(t, getBody).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Fatalf("the link's GET now: %d %.300s", getResp.StatusCode, getBody)
			}
			if resp.StatusCode != getResp.StatusCode || doc(t, body).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Errorf("the button: %d, %s; want %d, %s", resp.StatusCode, messageID(t, body), getResp.StatusCode, c.want)
			}
			if got := e.profUser(u.ID); got.Email != "alt@muster.example" {
				t.Errorf("address switched to %q", got.Email)
			}
		})
	}
}

// heldWriter is the database's one writer connection, held by a test in a transaction: whoever needs the
// writer meanwhile waits for it.
type heldWriter struct {
	e     *testEnv
	conn  *sql.Conn
	tx    *sql.Tx
	waits int64 // the writer pool's wait count when the hold began
}

func (e *testEnv) holdWriter(t *testing.T) *heldWriter {
	t.Helper()
	ctx := context.Background()
	conn, err := e.db.W.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	h := &heldWriter{e: e, conn: conn, tx: tx, waits: e.db.W.Stats().WaitCount}
	t.Cleanup(func() { h.release(false) })
	return h
}

// waited reports whether anybody has asked for the writer since the hold began.
func (h *heldWriter) waited() bool { return h.e.db.W.Stats().WaitCount != h.waits }

// untilWaited returns once a request waits for the writer; after 5 s the test fails.
func (h *heldWriter) untilWaited(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !h.waited(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			h.release(false)
			t.Fatal("the request never waited for the writer")
		}
	}
}

// release ends the held transaction, committed or rolled back, and gives the connection back; a second
// call does nothing.
func (h *heldWriter) release(commit bool) error {
	if h.conn == nil {
		return nil
	}
	var err error
	if commit {
		err = h.tx.Commit()
	} else {
		err = h.tx.Rollback()
	}
	h.conn.Close()
	h.conn = nil
	return err
}

// sent is a request's answer, read when it comes.
type sent struct {
	resp *http.Response
	body string
}

// later sends a request from a goroutine of its own; its answer comes on the channel.
func later(send func() (*http.Response, string)) <-chan sent {
	done := make(chan sent, 1)
	go func() {
		resp, body := send()
		done <- sent{resp, body}
	}()
	return done
}

// whileWriterHeld sends a request while the test holds the database's one writer connection in a
// transaction: once the request waits for the writer (it has read what it reads before writing), meanwhile
// runs in the held transaction, which commits, and the request goes on.
func (e *testEnv) whileWriterHeld(t *testing.T, send func() (*http.Response, string), meanwhile func(*sql.Tx) error) (*http.Response, string) {
	t.Helper()
	h := e.holdWriter(t)
	done := later(send)
	h.untilWaited(t)
	if err := meanwhile(h.tx); err != nil {
		t.Fatal(err)
	}
	if err := h.release(true); err != nil {
		t.Fatal(err)
	}
	a := <-done
	return a.resp, a.body
}

// messageID is the data-testid of a message page's article.
func messageID(t *testing.T, body string) string {
	id, _ := doc(t, body).Find(`main [data-testid]`).First().Attr("data-testid")
	return id
}

// Confirming an address that another account took after the link was sent (two people asked for the
// same free address; staff invited someone with it) cannot give it to this account. The link is used up
// (it must not switch the address later, after its owner was told it did not), the owner's log says so
// (before: no entry at all), the address no longer waits on the profile, and the page says, in the
// person's language, that the address is another account's now and what to do.
func TestConfirmToAnAddressTakenMeanwhile(t *testing.T) {
	for lang, want := range map[string]string{"en": "change it again in your profile", "de": "ändern Sie sie erneut in Ihrem Profil"} {
		t.Run(lang, func(t *testing.T) {
			e := newTestEnv(t)
			hdr := map[string]string{"Accept-Language": lang}
			u, link := pendingAddressLink(t, e)
			resp, page := e.get(link, hdr)
			button, _ := doc(t, page).Find(`[data-testid="confirm-ask"] form[method="post"]`).Attr("action")
			if resp.StatusCode != http.StatusOK || button == "" {
				t.Fatalf("the link's page: %d", resp.StatusCode)
			}
			other := e.createUser("neu@muster.example", "Nora Neu", "", nil)
			resp, body := e.post(button, nil, hdr)
			d := doc(t, body)
			if resp.StatusCode != http.StatusConflict || d.Find(`[data-testid="confirm-taken"]`).Length() != 1 || !strings.Contains(body, want) ||
				d.Find(`[data-testid="support-contact"]`).Length() != 1 {
				t.Fatalf("taken: %d %s %.2000s", resp.StatusCode, messageID(t, body), body)
			}
			var actor int64
			var name, target string
			if err := e.db.R.QueryRow(`SELECT actor_id, actor_name, target FROM audit WHERE action = 'email.confirm_taken'`).Scan(&actor, &name, &target); err != nil {
				t.Fatalf("no email.confirm_taken entry: %v", err)
			}
			if actor != u.ID || name != "Anna" || target != "neu@muster.example" {
				t.Errorf("email.confirm_taken by %d %q for %q", actor, name, target)
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'email.confirmed'`); n != 0 {
				t.Errorf("email.confirmed audited %d times", n)
			}
			if got := e.profUser(u.ID); got.Email != "alt@muster.example" || got.PendingEmail != "" {
				t.Errorf("Anna after: %q, waiting %q", got.Email, got.PendingEmail)
			}
			if got := e.profUser(other.ID); got.Email != "neu@muster.example" {
				t.Errorf("Nora after: %q", got.Email)
			}
			if resp, body := e.get(link, hdr); resp.StatusCode != http.StatusGone || doc(t, body).Find(`[data-testid="link-used"]`).Length() != 1 {
				t.Errorf("the link afterwards: %d %s", resp.StatusCode, messageID(t, body))
			}
		})
	}
}

// "Continue" after a confirmation leads a signed-in person who is still in the middle of signing in to
// their next step (the first-login pipeline's, nextStep), not to the profile, which is not theirs yet.
func TestConfirmContinueLeadsToTheNextStep(t *testing.T) {
	for _, c := range []struct {
		name, want string
		signIn     func(e *testEnv, u *db.User)
	}{
		{"second factor not passed", "/mfa", func(e *testEnv, u *db.User) {
			if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); location(resp) != "/mfa" {
				t.Fatalf("password step: %d %s", resp.StatusCode, location(resp))
			}
		}},
		{"new terms to accept", "/terms", func(e *testEnv, u *db.User) {
			e.login(u.Email, testPassword)
			if _, err := e.db.PublishTerms(context.Background(), "Neue Bedingungen", "New terms", 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"done", "/profile", func(e *testEnv, u *db.User) { e.login(u.Email, testPassword) }},
		{"nobody signed in", "/login", func(*testEnv, *db.User) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			u, link := pendingAddressLink(t, e)
			c.signIn(e, u)
			resp, body := e.confirmAddress(t, link, nil)
			href, _ := doc(t, body).Find(`[data-testid="confirm-done"] a`).Attr("href")
			if resp.StatusCode != http.StatusOK || href != c.want {
				t.Errorf("continue: %d %q, want %q", resp.StatusCode, href, c.want)
			}
		})
	}
}

// The button of a link whose address was taken meanwhile, sent forty times at once: one answer says the
// address is taken, with one entry in its owner's log; the others find the link used.
func TestParallelConfirmationToATakenAddress(t *testing.T) {
	e := newTestEnv(t)
	u, link := pendingAddressLink(t, e)
	e.createUser("neu@muster.example", "Nora Neu", "", nil)
	got := e.fire(burst, func(int) (answer, error) {
		resp, err := newBrowser().PostForm(e.URL(link), nil)
		if err != nil {
			return answer{}, err
		}
		resp.Body.Close()
		return answer{resp.StatusCode, location(resp)}, nil
	})
	if n := countStatus(got, http.StatusConflict); n != 1 || countStatus(got, http.StatusGone) != burst-1 {
		t.Fatalf("%d of %d answered taken, want 1 and the others 410: %v", n, burst, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'email.confirm_taken' AND actor_id = ?`, u.ID); n != 1 {
		t.Fatalf("email.confirm_taken audited %d times", n)
	}
}
