package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
)

// Attacks on the rule that an open invitation stands on its sender's authority (accounts.withdrawUnbacked),
// by ways of losing that authority other than the people page's actions.

// Accepting an invitation of a lesser role makes a manager a viewer (db.grant): someone who came in through
// the organisation's provider has no password, so a colleague's invitation reaches them although they are a
// member, and its link sets the role it offers. The invitations they sent as a manager must go with it.
func TestAcceptingALesserRoleWithdrawsTheInvitationsTheInviteeSent(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	// Mia signs in through Alpha's provider only (accounts.AcceptWithProvider leaves the password empty).
	if _, err := e.db.W.Exec(`UPDATE users SET password_hash = NULL WHERE id = ?`, mia.ID); err != nil {
		t.Fatal(err)
	}
	inviteAs(e, mia, "mias-private@example.org", a.ID, "manager")
	link := inviteAs(e, mara, mia.Email, a.ID, "viewer")

	e.newClient()
	if resp, body := e.post(link, pwValues("Mia", "Korrekt-Pferd-7!", "Korrekt-Pferd-7!", true), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accepting: %d\n%.400s", resp.StatusCode, body)
	}
	if role, err := e.db.MemberRole(context.Background(), mia.ID, a.ID); err != nil || role != "viewer" {
		t.Fatalf("Mia's role after accepting: %q, %v (want viewer)", role, err)
	}
	if open := openInvitationsTo(t, e, "mias-private@example.org"); len(open) != 0 {
		t.Errorf("a viewer's invitation stays open: %v", open)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'invite.withdraw' AND org_id = ?`, a.ID); n != 1 {
		t.Errorf("%d withdrawals audited, want 1", n)
	}
}

// The same through the link of someone who has a password: an invitation of another role can be open
// for a member when it was sent while they accepted their first (Invite read the open one before the
// acceptance committed), and anyone holding its link accepts it.
func TestAcceptingALesserRoleWithAPasswordWithdrawsToo(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	inviteAs(e, mia, "mias-private@example.org", a.ID, "manager")
	raw, hash := auth.NewToken()
	if _, err := e.db.CreateInvitation(context.Background(), db.NewInvitation{Email: mia.Email, Name: "Mia", Lang: "en",
		OrgID: a.ID, Role: "viewer", InvitedBy: mara.ID, TokenHash: hash, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}

	e.newClient()
	if resp, body := e.post("/invite/"+raw, url.Values{"existing": {"1"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accepting: %d\n%.400s", resp.StatusCode, body)
	}
	if role, err := e.db.MemberRole(context.Background(), mia.ID, a.ID); err != nil || role != "viewer" {
		t.Fatalf("Mia's role after accepting: %q, %v (want viewer)", role, err)
	}
	if open := openInvitationsTo(t, e, "mias-private@example.org"); len(open) != 0 {
		t.Errorf("a viewer's invitation stays open: %v", open)
	}
}

// A manager re-sending an invitation (which makes it theirs) or inviting while another manager demotes,
// removes or disables them, at the same moment: however the two land, nothing they sent stays open once
// they may no longer invite (Reissue and Invite decide inside their transaction, the change withdraws
// inside its own).
func TestParallelResendingWhileLosingTheRightToInvite(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	const rounds = 12
	for r := range rounds {
		p, _, pc, qc := twoManagers(e, a, r)
		addr := fmt.Sprintf("waiting%d@alpha.example", r)
		e.invite(addr, "Waiting", a.ID, "viewer", "en") // the command line's: nobody's authority
		inv := peopleInvitations(e, a.ID)[0]
		change := []struct {
			path string
			form url.Values
		}{
			{"/o/alpha/people/" + id64(p.ID) + "/role", url.Values{"role": {"viewer"}}},
			{removePath("alpha", p.ID), nil},
			{"/o/alpha/people/" + id64(p.ID) + "/disable", nil},
		}[r%3]
		got := e.fire(2, func(i int) (answer, error) {
			if i == r%2 {
				return e.postAs(qc, change.path, change.form)
			}
			if r%4 < 2 {
				return e.postAs(pc, "/o/alpha/invitations/"+id64(inv.ID)+"/resend", nil)
			}
			return e.postAs(pc, "/o/alpha/people/invite", url.Values{"email": {addr}, "name": {"Waiting"}, "role": {"viewer"}, "lang": {"en"}})
		})
		if countStatus(got, http.StatusSeeOther) < 1 {
			t.Fatalf("round %d: the change did not go through: %v", r, got)
		}
		if open := countRows(t, e, `SELECT count(*) FROM invitations WHERE invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL`, p.ID); open != 0 {
			t.Fatalf("round %d (%s): answers %v; %d invitations of the manager stay open", r, change.path, got, open)
		}
		if open := countRows(t, e, `SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = ?
			AND i.accepted_at IS NULL AND i.revoked_at IS NULL`, addr); open > 1 {
			t.Fatalf("round %d: %d open invitations for %s", r, open, addr)
		}
	}
}

// The page counts the withdrawals of the change it reports, not of an earlier one whose page was never
// shown (a second tab, a request whose answer was not followed).
func TestWithdrawnCountBelongsToTheLastChange(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	paul := e.createUser("paul@alpha.example", "Paul", "", map[int64]string{a.ID: "manager"})
	inviteAs(e, mia, "mias-private@example.org", a.ID, "viewer")

	peopleSignIn(e, mara.Email)
	for _, who := range []int64{mia.ID, paul.ID} {
		if resp, _ := e.post("/o/alpha/people/"+id64(who)+"/role", url.Values{"role": {"viewer"}}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("role change: %d", resp.StatusCode)
		}
	}
	_, page := e.get("/o/alpha/people", nil)
	if got := doc(t, page).Find(`[data-testid=alert-withdrawn]`).Text(); got != "" {
		t.Errorf("Paul's role change, who sent nothing, is reported with %q", got)
	}
}
