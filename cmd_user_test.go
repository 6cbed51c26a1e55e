package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// `portier user disable` locks an account from the server while the portal runs: the person's session in
// a browser ends with their next request, they cannot sign in again, the open invitations they sent are
// withdrawn and the audit log names the command line; `user enable` lets them in again. It goes through
// the rules of the people pages: the last enabled administrator stays.
func TestCLIUserDisableWhileServing(t *testing.T) {
	p := startPortier(t, nil)
	ctx := context.Background()
	const pw = "Zugang-Sicher#2026"
	createTestUser(t, p, "ada@muster-it.example", pw)
	createTestUser(t, p, "mara@kunde.example", pw)
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ada, err := d.UserByEmail(ctx, "ada@muster-it.example")
	if err != nil {
		t.Fatal(err)
	}
	mara, err := d.UserByEmail(ctx, "mara@kunde.example")
	if err != nil {
		t.Fatal(err)
	}
	o, err := d.CreateOrg(ctx, "Kunde GmbH", "kunde")
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetStaffRole(ctx, tx, ada.ID, "admin"); err != nil {
			return err
		}
		if err := db.SetMembership(ctx, tx, d.Now(), mara.ID, o.ID, "manager"); err != nil {
			return err
		}
		_, err := db.CreateInvitation(ctx, tx, d.Now(), db.NewInvitation{Email: "kollege@kunde.example", OrgID: o.ID, Role: "viewer",
			InvitedBy: mara.ID, TokenHash: []byte("0123456789abcdef0123456789abcdef"), TTL: 24 * time.Hour})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Mara is signed in (her password accepted; the second factor is the next step).
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(p.BaseURL+"/login", url.Values{"email": {mara.Email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Her own pages send her on to the next step of signing in, not to the sign-in page: she has a session.
	where := func() string {
		t.Helper()
		resp, err := browser.Get(p.BaseURL + "/profile")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	if got := where(); got == "" || strings.HasPrefix(got, "/login") {
		t.Fatalf("her session before: /profile sends her to %q", got)
	}

	out, err := p.cmd(t, "user", "disable", "--email", " Mara@Kunde.example ")
	if err != nil || !strings.Contains(out, "Disabled mara@kunde.example") || !strings.Contains(out, "now withdrawn: 1") {
		t.Fatalf("user disable: %v\n%s", err, out)
	}
	if got := where(); !strings.HasPrefix(got, "/login") {
		t.Errorf("her session after: /profile sends her to %q (want the sign-in page)", got)
	}
	if signIn(t, p.BaseURL, mara.Email, pw) {
		t.Error("a disabled account signed in")
	}
	if out, err := p.cmd(t, "user", "disable", "--email", mara.Email); err != nil || !strings.Contains(out, "disabled already: nothing changed") {
		t.Errorf("disabling again: %v\n%s", err, out)
	}
	var open, audited int
	if err := d.R.QueryRow(`SELECT count(*) FROM invitations WHERE invited_by = ? AND revoked_at IS NULL`, mara.ID).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if err := d.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'user.disable' AND target = ? AND actor_id IS NULL
		AND user_agent = 'portier command line'`, mara.Email).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if open != 0 || audited != 1 {
		t.Errorf("after disabling: %d invitations of hers open, %d audit entries by the command line", open, audited)
	}

	if out, err := p.cmd(t, "user", "disable", "--email", ada.Email); err == nil || !strings.Contains(err.Error(), "last enabled administrator") {
		t.Errorf("disabling the last administrator: %v\n%s", err, out)
	}
	if u, _ := d.UserByID(ctx, ada.ID); u.Disabled {
		t.Error("the last administrator was disabled")
	}
	if _, err := p.cmd(t, "user", "disable", "--email", "niemand@kunde.example"); err == nil || !strings.Contains(err.Error(), "no account has the address niemand@kunde.example") {
		t.Errorf("unknown address: %v", err)
	}
	// Misuse changes nothing: an unknown or missing verb, no address, a stray argument.
	for _, args := range [][]string{{"user", "lock", "--email", mara.Email}, {"user"}, {"user", "--email", mara.Email},
		{"user", "enable"}, {"user", "enable", "--email", " "}, {"user", "enable", "--email", mara.Email, "now"}} {
		if _, err := p.cmd(t, args...); err == nil {
			t.Errorf("%q was taken", args)
		}
	}
	if u, _ := d.UserByID(ctx, mara.ID); !u.Disabled {
		t.Error("a misused command enabled the account")
	}

	// The command line, like staff, is told when it invites a disabled account, and nothing is sent.
	if _, err := p.cmd(t, "org", "create", "--name", "Zweite GmbH", "--slug", "zweite"); err != nil {
		t.Fatal(err)
	}
	if out, err := p.cmd(t, "invite", "--org", "zweite", "--email", mara.Email); err == nil || !strings.Contains(err.Error(), "disabled account") {
		t.Errorf("inviting the disabled account: %v\n%s", err, out)
	}
	if out, err := p.cmd(t, "user", "enable", "--email", mara.Email); err != nil || !strings.Contains(out, "Enabled mara@kunde.example") {
		t.Fatalf("user enable: %v\n%s", err, out)
	}
	if !signIn(t, p.BaseURL, mara.Email, pw) {
		t.Error("the enabled account cannot sign in")
	}
}

// The only administrator's account stolen: `user disable --even-last-admin` stops it now (its sessions end
// with their next request, the invitations it sent — say an administrator's invitation for the thief's
// own address — are withdrawn), says that nobody administers any more, and `admin create` makes the next.
func TestCLIUserDisableEvenTheLastAdministrator(t *testing.T) {
	p := startPortier(t, nil)
	ctx := context.Background()
	const pw = "Zugang-Sicher#2026"
	createTestUser(t, p, "ada@muster-it.example", pw)
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ada, err := d.UserByEmail(ctx, "ada@muster-it.example")
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetStaffRole(ctx, tx, ada.ID, "admin"); err != nil {
			return err
		}
		_, err := db.CreateInvitation(ctx, tx, d.Now(), db.NewInvitation{Email: "dieb@example.org", Role: "admin",
			InvitedBy: ada.ID, TokenHash: []byte("0123456789abcdef0123456789abcdef"), TTL: 24 * time.Hour})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.cmd(t, "user", "enable", "--email", ada.Email, "--even-last-admin"); err == nil {
		t.Error("--even-last-admin was taken for enable")
	}
	out, err := p.cmd(t, "user", "disable", "--email", ada.Email, "--even-last-admin")
	if err != nil || !strings.Contains(out, "Disabled ada@muster-it.example") || !strings.Contains(out, "No administrator is left") {
		t.Fatalf("disable --even-last-admin: %v\n%s", err, out)
	}
	if u, _ := d.UserByID(ctx, ada.ID); !u.Disabled {
		t.Fatal("the stolen administrator account is still enabled")
	}
	if signIn(t, p.BaseURL, ada.Email, pw) {
		t.Error("the disabled administrator signed in")
	}
	var open int
	if err := d.R.QueryRow(`SELECT count(*) FROM invitations WHERE invited_by = ? AND revoked_at IS NULL`, ada.ID).Scan(&open); err != nil || open != 0 {
		t.Errorf("the thief's administrator invitation: %d open, %v", open, err)
	}
	out, err = p.cmd(t, "admin", "create", "--email", "neue-admin@muster-it.example")
	if err != nil || !strings.Contains(out, "/invite/") {
		t.Fatalf("admin create afterwards: %v\n%s", err, out)
	}
}
