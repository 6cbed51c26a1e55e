package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"testing"
	"time"

	"portier/db"
)

// linkRace is what may happen to a one-time link while a request that uses it waits for the database's
// writer (whileWriterHeld), and the page its GET then shows.
type linkRace struct {
	name, want string
	meanwhile  func(e *testEnv, tx *sql.Tx, u *db.User) error
}

// tokenRaces are the races every link of the tokens table (purpose: confirm, reset) meets: its account
// disabled, a newer link sent, its lifetime (ttl and a bit) running out.
func tokenRaces(purpose string, ttl time.Duration) []linkRace {
	return []linkRace{
		{"account disabled", "link-revoked", func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.SetDisabled(context.Background(), tx, e.clock.Now(), u.ID, true)
		}},
		{"newer link sent", "link-revoked", func(e *testEnv, tx *sql.Tx, u *db.User) error {
			// What db.CreateToken does to the account's older links when a newer one is sent.
			_, err := tx.Exec(`UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND revoked_at IS NULL`,
				e.clock.Now().Unix(), u.ID, purpose)
			return err
		}},
		{"lifetime ran out", "link-expired", func(e *testEnv, _ *sql.Tx, _ *db.User) error {
			e.clock.Advance(ttl)
			return nil
		}},
	}
}

// The reset form's POST names the link's state as a GET of the link names it at that moment, decided in
// the transaction that would use it: a link revoked by a newer one, expired, used elsewhere, or whose
// account was disabled, after the form was opened — here while the POST waits for the database's writer
// — sets no password. Before, every such race said "already used", and a disabled account got the new
// password all the same.
func TestResetSubmitNamesTheStateTheLinkHasWhenSent(t *testing.T) {
	races := append(tokenRaces("reset", 61*time.Minute), linkRace{"used in another tab", "link-used", func(e *testEnv, tx *sql.Tx, u *db.User) error {
		_, err := tx.Exec(`UPDATE tokens SET used_at = ? WHERE user_id = ? AND purpose = 'reset' AND used_at IS NULL`, e.clock.Now().Unix(), u.ID)
		return err
	}})
	for _, c := range races {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			o := e.createOrg("Muster GmbH", "muster")
			u := e.createUser("anna@kunde.example", "Anna", "", map[int64]string{o.ID: "viewer"})
			e.forgot(u.Email)
			link := lastResetLink(t, e, u.Email)
			hdr := map[string]string{"Accept-Language": "en"}
			if resp, page := e.get(link, hdr); resp.StatusCode != http.StatusOK || doc(t, page).Find(`[data-testid="setpw-reset"]`).Length() != 1 {
				t.Fatalf("the link's page: %d %s", resp.StatusCode, messageID(t, page))
			}
			before := e.profUser(u.ID).PasswordHash
			resp, body := e.whileWriterHeld(t, func() (*http.Response, string) {
				return e.post(link, pwValues("", goodPassword, goodPassword, false), hdr)
			}, func(tx *sql.Tx) error { return c.meanwhile(e, tx, u) })
			getResp, getBody := e.get(link, hdr)
			if doc(t, getBody).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Errorf("the link's GET now: %d %s", getResp.StatusCode, messageID(t, getBody))
			}
			if resp.StatusCode != getResp.StatusCode || doc(t, body).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Errorf("the form's POST: %d, %s; want %d, %s", resp.StatusCode, messageID(t, body), getResp.StatusCode, c.want)
			}
			if e.profUser(u.ID).PasswordHash != before {
				t.Error("the password was set")
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'password.reset'`); n != 0 {
				t.Errorf("%d password.reset entries", n)
			}
		})
	}
}

// The invitation form's POST (a new person's first password, or an existing account's "accept") names the
// link's state as a GET of the link names it at that moment, decided in the transaction that accepts it:
// an invitation revoked or withdrawn (its sender lost their authority: accounts.withdrawUnbacked),
// expired or accepted elsewhere, or an account disabled, after the page was opened — here while the POST
// waits for the database's writer — gives no password and no membership. Before, a disabled account was
// accepted and signed in, and every other race said "already accepted".
func TestInviteSubmitNamesTheStateTheLinkHasWhenSent(t *testing.T) {
	invitation := func(e *testEnv, tx *sql.Tx, u *db.User) int64 {
		var id int64
		if err := tx.QueryRow(`SELECT id FROM invitations WHERE user_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, u.ID).Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		return id
	}
	for _, c := range []struct {
		name, want string
		existing   bool // the invited person has an account with a password already
		meanwhile  func(e *testEnv, tx *sql.Tx, u *db.User) error
	}{
		{"account disabled", "link-revoked", false, func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.SetDisabled(context.Background(), tx, e.clock.Now(), u.ID, true)
		}},
		{"existing account disabled", "link-revoked", true, func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.SetDisabled(context.Background(), tx, e.clock.Now(), u.ID, true)
		}},
		{"withdrawn", "link-revoked", false, func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.WithdrawInvitation(context.Background(), tx, e.clock.Now(), invitation(e, tx, u))
		}},
		{"existing: withdrawn", "link-revoked", true, func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.WithdrawInvitation(context.Background(), tx, e.clock.Now(), invitation(e, tx, u))
		}},
		{"week ran out", "link-expired", false, func(e *testEnv, _ *sql.Tx, _ *db.User) error {
			e.clock.Advance(8 * 24 * time.Hour)
			return nil
		}},
		{"accepted elsewhere", "link-used", false, func(e *testEnv, tx *sql.Tx, u *db.User) error {
			return db.AcceptInvitationID(context.Background(), tx, e.clock.Now(), invitation(e, tx, u))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			o := e.createOrg("Muster GmbH", "muster")
			other := e.createOrg("Beta AG", "beta")
			hdr := map[string]string{"Accept-Language": "en"}
			form := pwValues("Anna Beispiel", goodPassword, goodPassword, true)
			if c.existing {
				e.createUser("anna@kunde.example", "Anna", "", map[int64]string{other.ID: "viewer"})
				form = url.Values{"existing": {"1"}}
			}
			link := e.invite("anna@kunde.example", "Anna", o.ID, "viewer", "en")
			u := userByEmail(t, e, "anna@kunde.example")
			page := "setpw-invite"
			if c.existing {
				page = "invite-existing"
			}
			if resp, body := e.get(link, hdr); resp.StatusCode != http.StatusOK || doc(t, body).Find(`[data-testid="`+page+`"]`).Length() != 1 {
				t.Fatalf("the link's page: %d %.300s", resp.StatusCode, body)
			}
			resp, body := e.whileWriterHeld(t, func() (*http.Response, string) { return e.post(link, form, hdr) },
				func(tx *sql.Tx) error { return c.meanwhile(e, tx, u) })
			getResp, getBody := e.get(link, hdr)
			if doc(t, getBody).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Errorf("the link's GET now: %d %s", getResp.StatusCode, messageID(t, getBody))
			}
			if resp.StatusCode != getResp.StatusCode || doc(t, body).Find(`[data-testid="`+c.want+`"]`).Length() != 1 {
				t.Errorf("the form's POST: %d %q, %s; want %d, %s", resp.StatusCode, resp.Header.Get("Location"), messageID(t, body), getResp.StatusCode, c.want)
			}
			after := e.profUser(u.ID)
			if after.PasswordHash != u.PasswordHash || after.Name != u.Name {
				t.Error("the account changed")
			}
			if _, err := e.db.MemberRole(context.Background(), u.ID, o.ID); err == nil && c.name != "accepted elsewhere" {
				t.Error("made a member")
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'invite.accept'`); n != 0 {
				t.Errorf("%d invite.accept entries", n)
			}
		})
	}
}
