package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

// managerAndTechnician signs in, each in a browser of their own, a manager of org and an MSP technician:
// two people who may both act on org's people.
func managerAndTechnician(e *testEnv, org *db.Org) (mara, theo *http.Client) {
	e.t.Helper()
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{org.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	mara, theo = newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{"mara@alpha.example": mara, "theo@msp.example": theo} {
		e.client = c
		e.login(who, testPassword)
	}
	return mara, theo
}

// Two people pressing the same role change at once (a manager and MSP staff, each seeing "viewer"): the
// role changes once and the log says so once. The entry is written in the change's transaction, so it
// must name the role that transaction found: before, the role read before the transaction (stale by then) made
// the second press write "viewer → manager" again for a change that did not happen.
func TestParallelRoleChangeLogsOnlyWhatChanged(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara, theo := managerAndTechnician(e, a)
	const rounds = 8
	for r := range rounds {
		p := e.createUser(fmt.Sprintf("p%d@alpha.example", r), "P", "", map[int64]string{a.ID: "viewer"})
		got := e.fire(2, func(i int) (answer, error) {
			return e.postAs([]*http.Client{mara, theo}[(i+r)%2], "/o/alpha/people/"+id64(p.ID)+"/role", url.Values{"role": {"manager"}})
		})
		if countStatus(got, http.StatusSeeOther) != 2 {
			t.Fatalf("round %d: answers %v", r, got)
		}
		if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'member.role' AND target LIKE ?`, p.Email+"%"); n != 1 {
			t.Fatalf("round %d: %d entries for one change of role", r, n)
		}
	}
}

// Two people disabling the same account at once: it is disabled once and the log says so once (and the
// same for enabling it again).
func TestParallelDisablingLogsOnlyWhatChanged(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	mara, theo := managerAndTechnician(e, a)
	const rounds = 6
	for r := range rounds {
		p := e.createUser(fmt.Sprintf("p%d@alpha.example", r), "P", "", map[int64]string{a.ID: "viewer"})
		for _, what := range []string{"disable", "enable"} {
			got := e.fire(2, func(i int) (answer, error) {
				return e.postAs([]*http.Client{mara, theo}[(i+r)%2], "/o/alpha/people/"+id64(p.ID)+"/"+what, nil)
			})
			if countStatus(got, http.StatusSeeOther) != 2 {
				t.Fatalf("round %d, %s: answers %v", r, what, got)
			}
			if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = ? AND target = ?`, "user."+what, p.Email); n != 1 {
				t.Fatalf("round %d: %d entries for one %s", r, n, what)
			}
		}
	}
}

// An invitation link goes to the address the person had when it was sent. Once they confirm another
// address, the old mailbox (a former employer's, say) holds a link that proves nothing any more, as a
// reset link sent there does (resetState): its page must not show whoever opens it the person's new
// address ("You already have an account with …"), nor its button make them a member of an organisation
// without their word. Before, both happened.
func TestInvitationToAnAddressGivenUpProvesNothing(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta AG", "beta")
	x := e.createUser("xaver@alt.example", "Xaver", "", map[int64]string{a.ID: "viewer"})
	link := e.invite(x.Email, "Xaver", b.ID, "viewer", "en")
	hdr := map[string]string{"Accept-Language": "en"}
	e.login(x.Email, testPassword)
	if resp, _ := e.post("/profile/email", url.Values{"email": {"xaver@privat.example"}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, body := e.confirmAddress(t, linkIn(t, e.lastMailTo("xaver@privat.example")), nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm-done"`) {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	e.client = newBrowser() // whoever reads the old mailbox now
	resp, body := e.get(link, hdr)
	if resp.StatusCode != http.StatusGone || doc(t, body).Find(`[data-testid="link-revoked"]`).Length() != 1 || strings.Contains(body, "privat") {
		t.Errorf("the old address's invitation page: %d %s, shows the new address: %v", resp.StatusCode, messageID(t, body), strings.Contains(body, "privat"))
	}
	resp, body = e.post(link, url.Values{"existing": {"1"}}, hdr)
	if resp.StatusCode != http.StatusGone || strings.Contains(body, "privat") {
		t.Errorf("the old address's invitation accepted: %d %s", resp.StatusCode, messageID(t, body))
	}
	if _, err := e.db.MemberRole(context.Background(), x.ID, b.ID); err == nil {
		t.Error("made a member of Beta through the old address's link")
	}
}

// "Send the confirmation again" mails nobody for a disabled account — not its waiting address, not its
// unconfirmed own one — as "forgot password" mails only enabled accounts. Before, anyone could have a
// link sent there that no press can use (linkState refuses a disabled account's links), whose page then
// says a newer link was sent, and so on with each mail.
func TestResendConfirmationMailsNoDisabledAccount(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("alt@muster.example", "Anna", "", nil)
	v := e.createUser("vera@muster.example", "Vera", "", nil)
	if _, err := e.db.W.Exec(`UPDATE users SET pending_email = 'neu@muster.example', disabled_at = 1 WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.W.Exec(`UPDATE users SET email_confirmed_at = NULL, disabled_at = 1 WHERE id = ?`, v.ID); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"neu@muster.example", v.Email} {
		if resp, _ := e.post("/confirm/resend", url.Values{"email": {addr}}, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("resend to %s: %d", addr, resp.StatusCode)
		}
		for _, m := range e.mails() {
			if strings.EqualFold(m.To, addr) {
				t.Errorf("a mail to %s, whose account is disabled: %q", addr, m.Subject)
			}
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM tokens WHERE user_id IN (?, ?)`, u.ID, v.ID); n != 0 {
		t.Errorf("%d links made for disabled accounts", n)
	}
}

// An organisation's invitations list shows the address each invitation went to. Before, it showed the
// person's current address: an organisation that once invited someone (who never joined) read their later,
// perhaps private, address there.
func TestInvitationsListKeepsTheAddressItWentTo(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta AG", "beta")
	mara := e.createUser("mara@beta.example", "Mara", "", map[int64]string{b.ID: "manager"})
	x := e.createUser("xaver@alt.example", "Xaver", "", map[int64]string{a.ID: "viewer"})
	e.invite(x.Email, "Xaver", b.ID, "viewer", "en")
	e.login(x.Email, testPassword)
	if resp, _ := e.post("/profile/email", url.Values{"email": {"xaver@privat.example"}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := e.confirmAddress(t, linkIn(t, e.lastMailTo("xaver@privat.example")), nil); resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	peopleSignIn(e, mara.Email)
	_, page := e.get("/o/beta/people", nil)
	if strings.Contains(page, "privat") || !strings.Contains(page, "xaver@alt.example") {
		t.Errorf("Beta's invitations list shows the new address: %v, the old one: %v", strings.Contains(page, "privat"),
			strings.Contains(page, "xaver@alt.example"))
	}
}
