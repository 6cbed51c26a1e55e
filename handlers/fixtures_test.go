package handlers

import (
	"context"
	"database/sql"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portier/db"
)

// fixtures shared by the handler tests.

const testPassword = "Zugang-Sicher#2026"

// createOrg makes an organisation.
func (e *testEnv) createOrg(name, slug string) *db.Org {
	e.t.Helper()
	o, err := e.db.CreateOrg(context.Background(), name, slug)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// createUser makes a person who has set a password, confirmed the address and accepted the current terms.
// staffRole is "admin", "technician" or ""; for customers, memberships maps org ids to roles.
func (e *testEnv) createUser(email, name, staffRole string, memberships map[int64]string) *db.User {
	e.t.Helper()
	ctx := context.Background()
	phc, err := e.tc.Hasher.Hash(ctx, testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	terms, err := e.db.CurrentTerms(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var id int64
	err = e.db.Tx(ctx, func(tx *sql.Tx) error {
		now := e.clock.Now()
		if id, _, err = db.EnsureUser(ctx, tx, now, email, name, "en"); err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, now, id, phc); err != nil {
			return err
		}
		if err := db.SetStaffRole(ctx, tx, id, staffRole); err != nil {
			return err
		}
		for org, role := range memberships {
			if err := db.SetMembership(ctx, tx, now, id, org, role); err != nil {
				return err
			}
		}
		if err := db.AcceptTerms(ctx, tx, now, id, terms.Version, "127.0.0.1"); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE users SET setup_shown = 1 WHERE id = ?`, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	// Everyone has a second factor (it is mandatory): an authenticator app with testTOTPSecret.
	e.enrolTestTOTP(id)
	u, err := e.db.UserByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login signs in through the real form and fails the test unless it succeeded. The second factor is then
// marked as passed in the session (passSecondFactor); the second-factor tests use loginPassword instead.
func (e *testEnv) login(email, password string) {
	e.t.Helper()
	resp, body := e.post("/login", url.Values{"email": {email}, "password": {password}}, nil)
	if resp.StatusCode != 303 {
		e.t.Fatalf("login %s: status %d\n%.500s", email, resp.StatusCode, body)
	}
	if resp.Header.Get("Location") == "/mfa" {
		e.passSecondFactor()
	}
}

// mails returns the messages waiting in the outbox (decrypted), oldest first.
func (e *testEnv) mails() []db.Mail {
	e.t.Helper()
	ms, err := e.db.DueMails(context.Background(), e.srv.cfg.Sealer, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// lastMailTo returns the newest queued mail to addr.
func (e *testEnv) lastMailTo(addr string) db.Mail {
	e.t.Helper()
	ms := e.mails()
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.EqualFold(ms[i].To, addr) {
			return ms[i]
		}
	}
	e.t.Fatalf("no mail to %s among %d", addr, len(ms))
	return db.Mail{}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/(invite|reset|confirm)/[A-Za-z0-9_-]{43}`)

// linkIn returns the one-time link of a mail, as a path.
func linkIn(t *testing.T, m db.Mail) string {
	t.Helper()
	l := linkRE.FindString(m.Text)
	if l == "" {
		t.Fatalf("no link in mail %q:\n%s", m.Subject, m.Text)
	}
	u, _ := url.Parse(l)
	return u.Path
}

// newClient gives the env a fresh cookie jar (another browser).
func (e *testEnv) newClient() {
	jar, _ := newJar()
	e.client.Jar = jar
}
