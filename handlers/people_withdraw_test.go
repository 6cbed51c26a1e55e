package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"portier/accounts"
	"portier/db"
)

// An open invitation stands on its sender's authority (accounts.withdrawUnbacked): when the sender may no
// longer invite to its place — made a viewer, removed, disabled — the invitations they sent there that are
// still open are withdrawn in the same transaction as the change, audited, and counted on the page. A
// manager about to be removed could otherwise invite an address of their own and come back through it.

// inviteAs sends an invitation as u, as the people page does, and returns its link's path.
func inviteAs(e *testEnv, u *db.User, email string, orgID int64, role string) string {
	e.t.Helper()
	ctx := context.Background()
	by, err := e.srv.accounts.Person(ctx, u)
	if err != nil {
		e.t.Fatal(err)
	}
	sent, err := e.srv.accounts.Invite(ctx, accounts.InviteRequest{Email: email, Name: "Invited", Lang: "en", OrgID: orgID, Role: role,
		By: by, Actor: db.AuditEntry{ActorID: u.ID, ActorName: u.Name}})
	if err != nil {
		e.t.Fatal(err)
	}
	link, err := url.Parse(sent.Link)
	if err != nil {
		e.t.Fatal(err)
	}
	return link.Path
}

// openInvitationsTo lists the addresses with an open invitation (not accepted, not revoked) among emails.
func openInvitationsTo(t *testing.T, e *testEnv, emails ...string) []string {
	t.Helper()
	var open []string
	for _, m := range emails {
		if countRows(t, e, `SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = ?
			AND i.accepted_at IS NULL AND i.revoked_at IS NULL`, m) > 0 {
			open = append(open, m)
		}
	}
	return open
}

// Senders × what happens to them × the places of their invitations, through the real router. Every
// sender has invitations open to each place they may invite to; beside them stand invitations nobody's
// change may touch: one of another manager, one of the command line, one the sender sent that another
// manager sent again (it stands on the one who sent it last), and one the sender sent that was accepted.
func TestInvitationsStandOnTheirSendersAuthority(t *testing.T) {
	for _, row := range []struct {
		sender, change string
		withdrawn      []string // the places whose invitation from the sender goes
	}{
		{"manager of Alpha and Beta", "made a viewer of Alpha", []string{"alpha"}},
		{"manager of Alpha and Beta", "removed from Alpha", []string{"alpha"}},
		{"manager of Alpha and Beta", "disabled", []string{"alpha", "beta"}},
		{"manager of Alpha and Beta", "second factors reset", nil},
		{"manager of Alpha and Beta", "made a manager of Alpha again", nil},
		{"technician", "disabled", []string{"alpha"}},
		{"technician", "second factors reset", nil},
		{"administrator", "disabled", []string{"alpha", "staff"}},
	} {
		t.Run(row.sender+"/"+row.change, func(t *testing.T) {
			e := newTestEnv(t, cheapHashing)
			a := e.createOrg("Alpha GmbH", "alpha")
			b := e.createOrg("Beta KG", "beta")
			ada := e.createUser("ada@msp.example", "Ada", "admin", nil)
			mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
			var sender *db.User
			places := map[string]int64{"alpha": a.ID}
			switch row.sender {
			case "manager of Alpha and Beta":
				sender = e.createUser("mia@kanzlei.example", "Mia", "", map[int64]string{a.ID: "manager", b.ID: "manager"})
				places["beta"] = b.ID
			case "technician":
				sender = e.createUser("theo@msp.example", "Theo", "technician", nil)
			case "administrator":
				sender = e.createUser("ann@msp.example", "Ann", "admin", nil)
				places["staff"] = 0
			}
			var fromSender []string
			for _, place := range slices.Sorted(func(yield func(string) bool) {
				for p := range places {
					if !yield(p) {
						return
					}
				}
			}) {
				role := "viewer"
				if place == "staff" {
					role = "technician"
				}
				addr := "new-" + place + "@" + place + ".example"
				inviteAs(e, sender, addr, places[place], role)
				fromSender = append(fromSender, addr)
			}
			inviteAs(e, mara, "from-mara@alpha.example", a.ID, "viewer")
			e.invite("from-cli@alpha.example", "CLI", a.ID, "viewer", "en")
			inviteAs(e, sender, "resent@alpha.example", a.ID, "viewer")
			inviteAs(e, mara, "resent@alpha.example", a.ID, "viewer") // Mara sends it again: it is hers now
			accepted := inviteAs(e, sender, "joined@alpha.example", a.ID, "viewer")
			if resp, _ := e.post(accepted, pwValues("Joined", "Korrekt-Pferd-7!", "Korrekt-Pferd-7!", true), nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("accepting: %d", resp.StatusCode)
			}
			others := []string{"from-mara@alpha.example", "from-cli@alpha.example", "resent@alpha.example"}

			actor, path, form := ada, "", url.Values(nil)
			switch row.change {
			case "made a viewer of Alpha":
				actor, path, form = mara, "/o/alpha/people/"+id64(sender.ID)+"/role", url.Values{"role": {"viewer"}}
			case "made a manager of Alpha again":
				actor, path, form = mara, "/o/alpha/people/"+id64(sender.ID)+"/role", url.Values{"role": {"manager"}}
			case "removed from Alpha":
				actor, path = mara, removePath("alpha", sender.ID)
			case "disabled":
				path = "/o/alpha/people/" + id64(sender.ID) + "/disable"
				if sender.IsStaff() {
					path = "/staff/people/" + id64(sender.ID) + "/disable"
				}
			case "second factors reset":
				path = "/o/alpha/people/" + id64(sender.ID) + "/mfa-reset"
				if sender.IsStaff() {
					path = "/staff/users/" + id64(sender.ID) + "/mfa-reset"
				}
			}
			peopleSignIn(e, actor.Email)
			resp, body := e.post(path, form, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%.400s", row.change, resp.StatusCode, body)
			}
			var want []string
			for _, addr := range fromSender {
				if !slices.ContainsFunc(row.withdrawn, func(p string) bool { return strings.HasPrefix(addr, "new-"+p+"@") }) {
					want = append(want, addr)
				}
			}
			want = append(want, others...)
			if got := openInvitationsTo(t, e, append(fromSender, others...)...); !slices.Equal(got, want) {
				t.Errorf("open afterwards: %v, want %v", got, want)
			}
			if _, err := e.db.MemberRole(context.Background(), mustUser(t, e, "joined@alpha.example").ID, a.ID); err != nil {
				t.Errorf("the accepted invitation's membership: %v", err)
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'invite.withdraw' AND actor_id = ?`, actor.ID); n != len(row.withdrawn) {
				t.Errorf("%d withdrawals audited as %s, want %d", n, actor.Name, len(row.withdrawn))
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'invite.withdraw'`); n != len(row.withdrawn) {
				t.Errorf("%d withdrawals audited, want %d", n, len(row.withdrawn))
			}
			// The log tells the change first, then what went with it (one transaction writes both).
			if len(row.withdrawn) > 0 && countRows(t, e, `SELECT count(*) FROM audit w WHERE w.action = 'invite.withdraw' AND w.id < (SELECT max(id)
				FROM audit WHERE action IN ('member.role', 'member.remove', 'user.disable'))`) != 0 {
				t.Errorf("a withdrawal stands in the log before the change that caused it")
			}

			// The page the change leads to counts them, in the reader's words.
			_, page := e.get(location(resp), nil)
			got := strings.TrimSpace(doc(t, page).Find(`[data-testid=alert-withdrawn]`).Text())
			switch len(row.withdrawn) {
			case 0:
				if got != "" {
					t.Errorf("nothing withdrawn, but the page says %q", got)
				}
			case 1:
				if !strings.HasPrefix(got, "1 open invitation sent by this person was withdrawn") {
					t.Errorf("page says %q", got)
				}
			default:
				if !strings.HasPrefix(got, fmt.Sprintf("%d open invitations sent by this person were withdrawn", len(row.withdrawn))) {
					t.Errorf("page says %q", got)
				}
			}
		})
	}
}

// mustUser loads the account of an address.
func mustUser(t *testing.T, e *testEnv, email string) *db.User {
	t.Helper()
	u, err := e.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A withdrawn invitation's link lands on the page of a withdrawn invitation, gives nothing, and the
// organisation's activity log names what happened in the reader's language. In German the page counts
// with German words.
func TestWithdrawnInvitationLetsNobodyIn(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	mia := e.createUser("mia@alpha.example", "Mia", "", map[int64]string{a.ID: "manager"})
	link := inviteAs(e, mia, "mias-private@example.org", a.ID, "manager")
	inviteAs(e, mia, "second@example.org", a.ID, "viewer")

	peopleSignIn(e, mara.Email)
	resp, _ := e.post(removePath("alpha", mia.ID), nil, map[string]string{"Accept-Language": "de"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("removal: %d", resp.StatusCode)
	}
	e.lang("de")
	_, page := e.get("/o/alpha/people", nil)
	if got := doc(t, page).Find(`[data-testid=alert-withdrawn]`).Text(); !strings.Contains(got, "2 von dieser Person verschickte offene Einladungen wurden zurückgezogen") {
		t.Errorf("German page says %q", got)
	}
	_, logPage := e.get("/o/alpha/audit", nil)
	rows := doc(t, logPage).Find(`[data-testid=audit-row][data-action="invite.withdraw"]`)
	if rows.Length() != 2 || !strings.Contains(rows.Text(), "Einladung zurückgezogen (die einladende Person darf nicht mehr einladen)") ||
		!strings.Contains(rows.Text(), "mias-private@example.org") {
		t.Errorf("the activity log's withdrawals (%d): %q", rows.Length(), rows.Text())
	}

	e.newClient()
	_, body := e.get(link, nil)
	if !strings.Contains(body, "withdrawn") && !strings.Contains(body, "zurückgezogen") {
		t.Errorf("the withdrawn link's page:\n%.600s", body)
	}
	resp, _ = e.post(link, pwValues("Mia privat", "Korrekt-Pferd-7!", "Korrekt-Pferd-7!", true), nil)
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("the withdrawn link was accepted (to %s)", location(resp))
	}
	if n := countRows(t, e, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'mias-private@example.org'`); n != 0 {
		t.Fatalf("the withdrawn invitation made %d memberships", n)
	}
}

// A manager inviting while another removes them, at the same moment: however the two land, no invitation
// of theirs stays open once they are no longer a manager (the invitation decides inside its transaction,
// the removal withdraws inside its own; the database orders the two).
func TestParallelInvitingWhileBeingRemoved(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	const rounds = 10
	for r := range rounds {
		p, _, pc, qc := twoManagers(e, a, r)
		got := e.fire(2, func(i int) (answer, error) {
			if i == r%2 {
				return e.postAs(qc, removePath("alpha", p.ID), nil)
			}
			return e.postAs(pc, "/o/alpha/people/invite", url.Values{"email": {fmt.Sprintf("back%d@private.example", r)},
				"name": {"P privat"}, "role": {"manager"}, "lang": {"en"}})
		})
		open := countRows(t, e, `SELECT count(*) FROM invitations WHERE invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL`, p.ID)
		if open != 0 {
			t.Fatalf("round %d: answers %v; %d invitations of the removed manager stay open", r, got, open)
		}
		if countStatus(got, http.StatusSeeOther) < 1 {
			t.Fatalf("round %d: the removal did not go through: %v", r, got)
		}
	}
}
