package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
)

// Attacks on the rule that an open invitation stands on its sender's authority (accounts.withdrawUnbacked),
// by ways of losing that authority other than the people page's actions.

// openInvitationLeftFor stores an open invitation of role for a member of orgID, sent by by: Invite answers
// "already a member" instead, but an invitation sent while its invitee accepted their first one (Invite
// read the open ones before that acceptance committed) is left open for a member. It returns the link's path.
func openInvitationLeftFor(e *testEnv, email string, orgID int64, role string, by *db.User) string {
	e.t.Helper()
	raw, hash := auth.NewToken()
	if _, err := e.db.CreateInvitation(context.Background(), db.NewInvitation{Email: email, Name: "Invited", Lang: "en",
		OrgID: orgID, Role: role, InvitedBy: by.ID, TokenHash: hash, TTL: time.Hour}); err != nil {
		e.t.Fatal(err)
	}
	return "/invite/" + raw
}

// Inviting a member who signs in through the organisation's provider only (no password) answers "already a
// member" and sends nothing, as for anyone with a password: before, the invitation went out, and its link
// set the role it offered, outside the role control.
func TestInvitingAProviderOnlyMemberSendsNothing(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	if _, err := e.db.W.Exec(`UPDATE users SET password_hash = NULL WHERE id = ?`, mia.ID); err != nil {
		t.Fatal(err)
	}
	peopleSignIn(e, mara.Email)
	resp, _ := e.post("/o/alpha/people/invite", url.Values{"email": {mia.Email}, "name": {"Mia"}, "role": {"viewer"}, "lang": {"en"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	_, page := e.get(location(resp), nil)
	if got := doc(t, page).Find(`[data-testid=alert-success]`).Text(); !strings.Contains(got, "already a member") {
		t.Errorf("the page says %q", got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM invitations WHERE user_id = ?`, mia.ID); n != 0 {
		t.Errorf("%d invitations for a member", n)
	}
	if role, _ := e.db.MemberRole(context.Background(), mia.ID, a.ID); role != "manager" {
		t.Errorf("Mia's role: %q", role)
	}
}

// Accepting an invitation of a lesser role makes a manager a viewer (db.grant): someone who came in through
// the organisation's provider has no password, and an invitation left open for them (openInvitationLeftFor)
// sets the role it offers. The invitations they sent as a manager must go with it.
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
	link := openInvitationLeftFor(e, mia.Email, a.ID, "viewer", mara)

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

// The same through the link of someone who has a password (an existing account's "accept").
func TestAcceptingALesserRoleWithAPasswordWithdrawsToo(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	inviteAs(e, mia, "mias-private@example.org", a.ID, "manager")
	link := openInvitationLeftFor(e, mia.Email, a.ID, "viewer", mara)

	e.newClient()
	if resp, body := e.post(link, url.Values{"existing": {"1"}}, nil); resp.StatusCode != http.StatusSeeOther {
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
