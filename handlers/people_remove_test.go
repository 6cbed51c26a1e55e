package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// Removing a person from an organisation (POST /o/:slug/people/:uid/remove): who may, what it changes
// (the membership and the person's open invitations to that organisation, audited in the same
// transaction), what it leaves (the account, its sessions, the person's other organisations), and how it
// holds under parallel requests.

// removePath is the removal route of person uid in the organisation slug.
func removePath(slug string, uid int64) string {
	return "/o/" + slug + "/people/" + id64(uid) + "/remove"
}

// joinOrg makes uid a member of orgID, as accepting an invitation does.
func joinOrg(e *testEnv, uid, orgID int64, role string) {
	e.t.Helper()
	err := e.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return db.SetMembership(context.Background(), tx, e.clock.Now(), uid, orgID, role)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// removalState is everything a removal may change about a person, as one comparable string: their
// memberships, the state of each of their invitations, their sessions, and the removals in the audit log.
func removalState(t *testing.T, e *testEnv, uid int64) string {
	t.Helper()
	var ms, invs sql.NullString
	if err := e.db.R.QueryRow(`SELECT group_concat(org_id || ':' || role, ' ') FROM (SELECT org_id, role FROM memberships
		WHERE user_id = ? ORDER BY org_id)`, uid).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if err := e.db.R.QueryRow(`SELECT group_concat(id || ':' || COALESCE(accepted_at, '-') || ':' || COALESCE(revoked_at, '-'), ' ')
		FROM (SELECT * FROM invitations WHERE user_id = ? ORDER BY id)`, uid).Scan(&invs); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("memberships [%s] invitations [%s] sessions %d removals %d", ms.String, invs.String,
		countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, uid),
		countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.remove'`))
}

// Every kind of actor against every kind of target, through the real router: the answer, the button on
// the people page, and on every refusal nothing changed (membership, invitations, sessions, audit log).
// Targets: Olga belongs to Alpha only (as a manager, so that removing herself meets the self rule); Ben
// belongs to Alpha and Beta (removing him from Alpha is Alpha's business, whatever Beta is); Tim is MSP
// staff, who has no membership and cannot be addressed under /o/alpha. Olga and Ben each have an open
// invitation to Alpha, which a removal revokes and a refusal leaves open.
func TestRemoveMemberWhoMayRemoveWhom(t *testing.T) {
	type target struct{ onlyA, bothAB, staff int } // expected status per target
	for _, row := range []struct {
		actor string
		want  target
	}{
		{"msp admin", target{303, 303, 404}},
		{"msp technician", target{303, 303, 404}},
		{"manager of Alpha", target{303, 303, 404}},
		{"viewer of Alpha", target{404, 404, 404}},
		{"manager of Beta", target{404, 404, 404}},
		{"viewer of Alpha, manager of Beta", target{404, 404, 404}},
		// Olga manages Alpha but may not remove herself (she would lock herself out); Ben, a viewer, does
		// not reach the people routes; Tim has no membership to remove.
		{"the target themselves", target{422, 404, 404}},
	} {
		t.Run(row.actor, func(t *testing.T) {
			e := newTestEnv(t, cheapHashing)
			ctx := context.Background()
			a := e.createOrg("Alpha GmbH", "alpha")
			b := e.createOrg("Beta KG", "beta")
			actors := map[string]*db.User{
				"msp admin":                        e.createUser("ada@msp.example", "Ada", "admin", nil),
				"msp technician":                   e.createUser("theo@msp.example", "Theo", "technician", nil),
				"manager of Alpha":                 e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"}),
				"viewer of Alpha":                  e.createUser("vic@alpha.example", "Vic", "", map[int64]string{a.ID: "viewer"}),
				"manager of Beta":                  e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "manager"}),
				"viewer of Alpha, manager of Beta": e.createUser("kai@kanzlei.example", "Kai", "", map[int64]string{a.ID: "viewer", b.ID: "manager"}),
			}
			olga := e.createUser("olga@alpha.example", "Olga", "", nil)
			ben := e.createUser("ben@kanzlei.example", "Ben", "", map[int64]string{b.ID: "viewer"})
			tim := e.createUser("tim@msp.example", "Tim", "technician", nil)
			for _, p := range []*db.User{olga, ben} {
				e.invite(p.Email, p.Name, a.ID, "viewer", "en")
			}
			joinOrg(e, olga.ID, a.ID, "manager")
			joinOrg(e, ben.ID, a.ID, "viewer")

			for _, c := range []struct {
				name   string
				target *db.User
				want   int
			}{{"member of Alpha only", olga, row.want.onlyA}, {"member of Alpha and Beta", ben, row.want.bothAB}, {"staff", tim, row.want.staff}} {
				actor := actors[row.actor]
				if actor == nil {
					actor = c.target
				}
				// The target signs in first: their session is part of what must stay.
				peopleSignIn(e, c.target.Email)
				peopleSignIn(e, actor.Email)
				before := removalState(t, e, c.target.ID)
				invBefore := countRows(t, e, `SELECT count(*) FROM invitations WHERE user_id = ? AND org_id = ? AND accepted_at IS NULL
					AND revoked_at IS NULL`, c.target.ID, a.ID)

				// The page offers the button exactly where the answer is yes.
				if resp, body := e.get("/o/alpha/people", nil); resp.StatusCode == 200 {
					offered := doc(t, body).Find(`[data-testid="member-remove-open-`+id64(c.target.ID)+`"]`).Length() == 1
					if offered != (c.want == 303) {
						t.Errorf("%s × %s: button offered %v, removal answers %d", row.actor, c.name, offered, c.want)
					}
				}

				resp, body := e.post(removePath("alpha", c.target.ID), nil, nil)
				if resp.StatusCode != c.want {
					t.Fatalf("%s × %s: %d, want %d\n%.400s", row.actor, c.name, resp.StatusCode, c.want, body)
				}
				after := removalState(t, e, c.target.ID)
				if c.want != 303 {
					if after != before {
						t.Errorf("%s × %s was refused (%d), but changed:\n%s\n%s", row.actor, c.name, c.want, before, after)
					}
					if c.want == 422 && doc(t, body).Find(`[data-testid=alert-error]`).Length() != 1 {
						t.Errorf("%s × %s: 422 without its message", row.actor, c.name)
					}
					continue
				}
				if loc := location(resp); loc != "/o/alpha/people" {
					t.Errorf("%s × %s: back to %q", row.actor, c.name, loc)
				}
				if _, err := e.db.MemberRole(ctx, c.target.ID, a.ID); err == nil {
					t.Errorf("%s × %s: still a member of Alpha", row.actor, c.name)
				}
				if c.target == ben {
					if r, err := e.db.MemberRole(ctx, ben.ID, b.ID); err != nil || r != "viewer" {
						t.Errorf("%s: Ben's membership of Beta: %q %v", row.actor, r, err)
					}
				}
				if invBefore != 1 || countRows(t, e, `SELECT count(*) FROM invitations WHERE user_id = ? AND org_id = ? AND accepted_at IS NULL
					AND revoked_at IS NULL`, c.target.ID, a.ID) != 0 {
					t.Errorf("%s × %s: the open invitation to Alpha was not revoked (%d before)", row.actor, c.name, invBefore)
				}
				if n := countRows(t, e, `SELECT count(*) FROM user_sessions WHERE user_id = ?`, c.target.ID); n == 0 {
					t.Errorf("%s × %s: the person's sessions were ended", row.actor, c.name)
				}
				if u, _ := e.db.UserByID(ctx, c.target.ID); u.Disabled {
					t.Errorf("%s × %s: the account was disabled", row.actor, c.name)
				}
				if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.remove' AND org_id = ? AND actor_id = ? AND target = ?`,
					a.ID, actor.ID, c.target.Email); n != 1 {
					t.Errorf("%s × %s: %d audit entries", row.actor, c.name, n)
				}
			}
		})
	}
}

// After the removal the person's very next request to Alpha is refused like that of someone who never
// belonged to it, while Beta, which shares the account, goes on in the same session; the open invitation
// to Alpha is revoked and its link no longer brings them back. The page says it was done, the activity
// log shows it in the reader's language, and someone removed from their last organisation lands on a
// page that tells them whom to ask.
func TestRemovedMemberIsRefusedAtOnceAndTheInvitationDies(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	mara := e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("bea@beta.example", "Bea", "", map[int64]string{b.ID: "viewer"})
	ben := e.createUser("ben@kanzlei.example", "Ben", "", map[int64]string{b.ID: "viewer"})
	link := e.invite(ben.Email, "Ben", a.ID, "manager", "en")
	joinOrg(e, ben.ID, a.ID, "viewer")
	olga := e.createUser("olga@alpha.example", "Olga", "", map[int64]string{a.ID: "viewer"})

	benJar := peopleSignIn(e, ben.Email)
	for _, p := range []string{"/o/alpha", "/o/alpha/docs/contacts", "/o/beta"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 200 {
			t.Fatalf("Ben before: %s %d", p, resp.StatusCode)
		}
	}
	olgaJar := peopleSignIn(e, olga.Email)
	if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != 200 {
		t.Fatalf("Olga before: %d", resp.StatusCode)
	}
	// What someone who never belonged to Alpha gets.
	peopleSignIn(e, "bea@beta.example")
	strangerResp, strangerBody := e.get("/o/alpha", nil)

	maraJar := peopleSignIn(e, mara.Email)
	resp, _ := e.post(removePath("alpha", ben.ID), nil, nil)
	mustRedirect(t, "remove Ben", resp, "/o/alpha/people")
	_, body := e.get("/o/alpha/people", nil)
	d := doc(t, body)
	l := e.srv.i18n.For("en", "")
	if got := d.Find(`[data-testid=alert-success]`).Text(); !strings.Contains(got, l.T("people.flash.removed")) {
		t.Errorf("flash: %q", got)
	}
	if d.Find(`[data-testid="member-`+id64(ben.ID)+`"]`).Length() != 0 {
		t.Error("Ben is still listed")
	}

	peopleUse(e, benJar)
	for _, p := range []string{"/o/alpha", "/o/alpha/docs/contacts", "/o/alpha/people"} {
		resp, body := e.get(p, nil)
		if resp.StatusCode != strangerResp.StatusCode || resp.StatusCode != 404 || strings.Contains(body, "Alpha GmbH") {
			t.Errorf("Ben's next request %s: %d, a stranger's: %d", p, resp.StatusCode, strangerResp.StatusCode)
		}
	}
	if strings.Contains(strangerBody, "Alpha GmbH") {
		t.Error("a stranger's answer names Alpha")
	}
	if resp, _ := e.get("/o/beta", nil); resp.StatusCode != 200 {
		t.Errorf("Ben's Beta in the same session: %d", resp.StatusCode)
	}
	// Where "sign in" leads someone signed in: no longer to Alpha, although it was the session's last.
	if resp, _ := e.get("/login", nil); location(resp) != "/o/beta" {
		t.Errorf("Ben's start page: %d → %q", resp.StatusCode, location(resp))
	}
	// The invitation to Alpha that was still open is revoked: its link neither shows a form nor grants.
	if inv := peopleInvitationOfLink(e, link); inv.Status != db.InviteRevoked {
		t.Errorf("the open invitation is %s", inv.Status)
	}
	if resp, _ := e.get(link, nil); resp.StatusCode != http.StatusGone {
		t.Errorf("GET the old link: %d", resp.StatusCode)
	}
	if resp, _ := e.post(link, url.Values{"existing": {"1"}}, nil); resp.StatusCode != http.StatusGone {
		t.Errorf("POST the old link: %d", resp.StatusCode)
	}
	if _, err := e.db.MemberRole(ctx, ben.ID, a.ID); err == nil {
		t.Fatal("the old invitation link brought Ben back")
	}

	// Olga's only organisation was Alpha: her start page becomes the page for people without one.
	peopleUse(e, maraJar)
	resp, _ = e.post(removePath("alpha", olga.ID), nil, nil)
	mustRedirect(t, "remove Olga", resp, "/o/alpha/people")
	peopleUse(e, olgaJar)
	if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != 404 {
		t.Errorf("Olga's next request: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/login", nil); location(resp) != "/orgs" {
		t.Errorf("Olga's start page: %d → %q", resp.StatusCode, location(resp))
	}
	for _, lang := range []string{"de", "en"} {
		e.lang(lang)
		resp, body := e.get("/orgs", nil)
		d := doc(t, body)
		l := e.srv.i18n.For(lang, "")
		if resp.StatusCode != 200 || !strings.Contains(d.Find(`[data-testid=orgs-empty]`).Text(), l.T("orgs.none", "msp", "Muster IT")) ||
			d.Find(`[data-testid=orgs-support-email]`).Text() != "support@muster-it.example" {
			t.Errorf("%s: the page without organisations: %d %q", lang, resp.StatusCode, d.Find(`[data-testid=orgs]`).Text())
		}
	}

	// The activity log names the removals in the reader's language.
	peopleUse(e, maraJar)
	for _, lang := range []string{"de", "en"} {
		e.lang(lang)
		_, body := e.get("/o/alpha/audit", nil)
		l := e.srv.i18n.For(lang, "")
		n := 0
		doc(t, body).Find(`[data-testid=audit-row][data-action="member.remove"]`).Each(func(_ int, s *goquery.Selection) {
			if strings.Contains(s.Text(), l.T("audit.member.remove")) && (strings.Contains(s.Text(), ben.Email) || strings.Contains(s.Text(), olga.Email)) {
				n++
			}
		})
		if n != 2 {
			t.Errorf("%s: %d of 2 removals shown", lang, n)
		}
	}
}

// Eight removals of one membership at once (a double click, two managers): one removes it and is
// audited once, the others find nobody to remove (404); no 5xx, and the person's other organisation stays.
func TestParallelRemovalsOfOneMembership(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	ben := e.createUser("ben@kanzlei.example", "Ben", "", map[int64]string{a.ID: "viewer", b.ID: "viewer"})
	mara, theo := newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{"mara@alpha.example": mara, "theo@msp.example": theo} {
		e.client = c
		e.login(who, testPassword)
	}

	got := e.fire(8, func(i int) (answer, error) {
		c := mara
		if i%2 == 1 {
			c = theo
		}
		return e.postAs(c, removePath("alpha", ben.ID), nil)
	})
	if countStatus(got, http.StatusSeeOther) != 1 || countStatus(got, http.StatusNotFound) != 7 {
		t.Fatalf("answers: %v (want one 303, seven 404)", got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.remove'`); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM memberships WHERE user_id = ? AND org_id = ?`, ben.ID, a.ID); n != 0 {
		t.Fatal("the membership is still there")
	}
	if n := countRows(t, e, `SELECT count(*) FROM memberships WHERE user_id = ? AND org_id = ?`, ben.ID, b.ID); n != 1 {
		t.Fatal("the membership of Beta went too")
	}
}

// A removal racing a role change of the same person: the role change never brings the membership back
// (it changes a membership that exists, or finds none), so once the removal answered yes the person is out.
func TestParallelRemovalRacingRoleChange(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	mara, theo := newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{"mara@alpha.example": mara, "theo@msp.example": theo} {
		e.client = c
		e.login(who, testPassword)
	}
	const rounds = 12
	for r := range rounds {
		p := e.createUser(fmt.Sprintf("p%d@alpha.example", r), "P", "", map[int64]string{a.ID: "viewer"})
		// Who removes and who changes the role alternates, and so does the order they are sent in.
		remover, changer := mara, theo
		if r%2 == 1 {
			remover, changer = theo, mara
		}
		got := e.fire(2, func(i int) (answer, error) {
			if i == r%2 {
				return e.postAs(remover, removePath("alpha", p.ID), nil)
			}
			return e.postAs(changer, "/o/alpha/people/"+id64(p.ID)+"/role", url.Values{"role": {"manager"}})
		})
		removal, change := got[r%2], got[1-r%2]
		if removal.status != http.StatusSeeOther {
			t.Fatalf("round %d: the removal answered %d", r, removal.status)
		}
		if change.status != http.StatusSeeOther && change.status != http.StatusNotFound {
			t.Fatalf("round %d: the role change answered %d", r, change.status)
		}
		if n := countRows(t, e, `SELECT count(*) FROM memberships WHERE user_id = ? AND org_id = ?`, p.ID, a.ID); n != 0 {
			t.Fatalf("round %d: the removal succeeded and the membership is there (role change: %d)", r, change.status)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.remove'`); n != rounds {
		t.Fatalf("%d audit entries for %d removals", n, rounds)
	}
}

// Two managers removing each other at the same moment: whoever is removed first has no authority left
// for their own removal, so exactly one goes through and the other finds nothing it may do (404), as
// when the two are sent one after the other. Both going through would leave the organisation without
// the managers that, each time, only the other's removal took away.
func TestParallelManagersRemovingEachOther(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	const rounds = 10
	for r := range rounds {
		p, q, pc, qc := twoManagers(e, a, r)
		got := e.fire(2, func(i int) (answer, error) {
			if i == 0 {
				return e.postAs(pc, removePath("alpha", q.ID), nil)
			}
			return e.postAs(qc, removePath("alpha", p.ID), nil)
		})
		left := countRows(t, e, `SELECT count(*) FROM memberships WHERE org_id = ? AND user_id IN (?, ?)`, a.ID, p.ID, q.ID)
		if countStatus(got, http.StatusSeeOther) != 1 || countStatus(got, http.StatusNotFound) != 1 || left != 1 {
			t.Fatalf("round %d: answers %v, %d of the two managers left (want one 303, one 404, one left)", r, got, left)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.remove'`); n != rounds {
		t.Fatalf("%d audit entries for %d removals", n, rounds)
	}
}

// A manager removing another while that one makes them a viewer, at the same moment: as when the two are
// sent one after the other, exactly one goes through (the other's author has no authority left, 404), and
// the organisation keeps a manager. The role change decides inside its transaction as the removal does.
func TestParallelRemovalRacingDemotionOfTheRemover(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	const rounds = 10
	for r := range rounds {
		p, q, pc, qc := twoManagers(e, a, r)
		got := e.fire(2, func(i int) (answer, error) {
			if i == r%2 {
				return e.postAs(pc, removePath("alpha", q.ID), nil)
			}
			return e.postAs(qc, "/o/alpha/people/"+id64(p.ID)+"/role", url.Values{"role": {"viewer"}})
		})
		managers := countRows(t, e, `SELECT count(*) FROM memberships WHERE org_id = ? AND user_id IN (?, ?) AND role = 'manager'`, a.ID, p.ID, q.ID)
		if countStatus(got, http.StatusSeeOther) != 1 || countStatus(got, http.StatusNotFound) != 1 || managers != 1 {
			t.Fatalf("round %d: answers %v, %d of the two still manage Alpha (want one 303, one 404, one manager)", r, got, managers)
		}
	}
}

// Someone removed from an organisation that signs in through its provider does not get back in by the
// provider account linked while they belonged to it, nor by an invitation to it that was still open when
// they were removed (through the provider, too); only a fresh invitation brings them back.
func TestRemovedMemberIsNotLetBackInByTheProvider(t *testing.T) {
	e := newIdPEnv(t)
	ctx := context.Background()
	mara := e.createUser("mara@kunde.example", "Mara", "", map[int64]string{e.org.ID: "manager"})
	anna := entraUser(tenantA, "a1", "anna@kunde.example", true)
	if resp, body, _ := e.acceptByProvider(e.invite(anna.Email, "Anna", e.org.ID, "viewer", "en"), realmA, anna); location(resp) != "/o/kunde" {
		t.Fatalf("invitation: %d %s\n%.800s", resp.StatusCode, location(resp), body)
	}
	l, err := e.db.IdentityBySubject(ctx, "entra "+tenantA+" a1")
	if err != nil {
		t.Fatal(err)
	}
	// An invitation of another role left open while she belongs (openInvitationLeftFor), which she starts
	// to accept through the provider before the removal and finishes after it.
	open := openInvitationLeftFor(e.testEnv, anna.Email, e.org.ID, "manager", mara)
	e.newClient()
	annaJar := e.client.Jar
	e.op.SignInAs(realmA, anna)
	started, startBody := e.post(open+"/idp", url.Values{"terms": {"1"}}, nil)

	maraJar := peopleSignIn(e.testEnv, mara.Email)
	resp, _ := e.post(removePath("kunde", l.UserID), nil, nil)
	mustRedirect(t, "remove Anna", resp, "/o/kunde/people")

	peopleUse(e.testEnv, annaJar)
	resp, body, _ := e.roundTrip(started, startBody)
	wantRefusal(t, resp, body, "refused.invitation_gone", http.StatusForbidden)
	if resp, _ := e.post(open+"/idp", url.Values{"terms": {"1"}}, nil); resp.StatusCode != http.StatusGone {
		t.Errorf("the open invitation's link after the removal: %d", resp.StatusCode)
	}
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, anna)
	wantRefusal(t, resp, body, "refused.no_account", http.StatusForbidden)
	if _, err := e.db.MemberRole(ctx, l.UserID, e.org.ID); err == nil {
		t.Fatal("back in Kunde without a fresh invitation")
	}
	peopleUse(e.testEnv, maraJar)
	if _, body := e.get("/o/kunde/people", nil); doc(t, body).Find(`[data-testid="member-`+id64(l.UserID)+`"]`).Length() != 0 {
		t.Fatal("Anna is listed again")
	}

	e.newClient()
	if resp, body, _ := e.acceptByProvider(e.invite(anna.Email, "Anna", e.org.ID, "viewer", "en"), realmA, anna); location(resp) != "/o/kunde" {
		t.Fatalf("a fresh invitation: %d %s\n%.800s", resp.StatusCode, location(resp), body)
	}
}

// Two managers disabling each other at the same moment: as when the two are sent one after the other,
// exactly one account is disabled. The other request finds its author disabled meanwhile (404) or its
// session ended (to the sign-in page); before, both went through and the organisation had no manager
// left who could sign in. A second-factor reset asks inside its transaction alike (accounts.decideTx).
func TestParallelManagersDisablingEachOther(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	const rounds = 10
	for r := range rounds {
		p, q, pc, qc := twoManagers(e, a, r)
		got := e.fire(2, func(i int) (answer, error) {
			if i == 0 {
				return e.postAs(pc, "/o/alpha/people/"+id64(q.ID)+"/disable", nil)
			}
			return e.postAs(qc, "/o/alpha/people/"+id64(p.ID)+"/disable", nil)
		})
		disabled := countRows(t, e, `SELECT count(*) FROM users WHERE id IN (?, ?) AND disabled_at IS NOT NULL`, p.ID, q.ID)
		done := 0
		for _, g := range got {
			switch {
			case g.status == http.StatusSeeOther && g.location == "/o/alpha/people":
				done++
			case g.status == http.StatusNotFound, g.status == http.StatusSeeOther && strings.HasPrefix(g.location, "/login"):
			default:
				t.Fatalf("round %d: answer %v", r, g)
			}
		}
		if done != 1 || disabled != 1 {
			t.Fatalf("round %d: answers %v, %d of the two managers disabled (want one done, one disabled)", r, got, disabled)
		}
	}
}

// twoManagers makes two managers of a for round r, each signed in in a browser of their own.
func twoManagers(e *testEnv, a *db.Org, r int) (p, q *db.User, pc, qc *http.Client) {
	e.t.Helper()
	p = e.createUser(fmt.Sprintf("p%d@alpha.example", r), "P", "", map[int64]string{a.ID: "manager"})
	q = e.createUser(fmt.Sprintf("q%d@alpha.example", r), "Q", "", map[int64]string{a.ID: "manager"})
	pc, qc = newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{p.Email: pc, q.Email: qc} {
		e.client = c
		e.login(who, testPassword)
	}
	return p, q, pc, qc
}
