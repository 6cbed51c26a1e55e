package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// An invitation that expired before its person changed their address is not sent again to the address
// given up: the change revoked it with the open ones (a re-send copies the invitation's address, which is
// the previous one), so "send again" refuses and mails nobody; inviting the new address sends the new
// link there.
func TestExpiredInvitationAfterAddressChangeGoesNowhereOld(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta AG", "beta")
	mara := e.createUser("mara@beta.example", "Mara", "", map[int64]string{b.ID: "manager"})
	x := e.createUser("xaver@alt.example", "Xaver", "", map[int64]string{a.ID: "viewer"})
	e.invite(x.Email, "Xaver", b.ID, "viewer", "en")
	var invID int64
	if err := e.db.W.QueryRow(`UPDATE invitations SET expires_at = 1 WHERE user_id = ? RETURNING id`, x.ID).Scan(&invID); err != nil {
		t.Fatal(err)
	}
	e.login(x.Email, testPassword)
	if resp, _ := e.post("/profile/email", url.Values{"email": {"xaver@privat.example"}, "current_password": {testPassword}}, nil); resp.StatusCode != 303 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := e.confirmAddress(t, linkIn(t, e.lastMailTo("xaver@privat.example")), nil); resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	toOld := func() int {
		n := 0
		for _, m := range e.mails() {
			if strings.EqualFold(m.To, "xaver@alt.example") {
				n++
			}
		}
		return n
	}
	before := toOld()
	e.newClient()
	peopleSignIn(e, mara.Email)
	e.post(fmt.Sprintf("/o/beta/invitations/%d/resend", invID), url.Values{}, nil)
	var open int
	if err := e.db.R.QueryRow(`SELECT count(*) FROM invitations WHERE user_id = ? AND revoked_at IS NULL AND accepted_at IS NULL`, x.ID).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if got := toOld(); got != before || open != 0 {
		t.Fatalf("after \"send again\": %d new mails to the address given up, %d open invitations", got-before, open)
	}
	if resp, _ := e.post("/o/beta/people/invite", url.Values{"email": {"xaver@privat.example"}, "name": {"Xaver"}, "role": {"viewer"}, "lang": {"en"}}, nil); resp.StatusCode >= 400 {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	if toOld() != before {
		t.Error("the new invitation went to the address given up")
	}
	if l := linkIn(t, e.lastMailTo("xaver@privat.example")); !strings.HasPrefix(l, "/invite/") {
		t.Errorf("the newest mail to the new address carries %s, not the invitation", l)
	}
	var addr string
	if err := e.db.R.QueryRow(`SELECT email FROM invitations WHERE user_id = ? AND revoked_at IS NULL AND accepted_at IS NULL`, x.ID).Scan(&addr); err != nil || addr != "xaver@privat.example" {
		t.Errorf("the open invitation's address: %q %v", addr, err)
	}
}
