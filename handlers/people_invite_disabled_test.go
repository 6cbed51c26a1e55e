package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Inviting a disabled account's address. MSP staff, who know every account anyway, are told so and nothing
// is created. A customer's manager gets the answer any address gets — it must not tell them about an
// account of another organisation — but the disabled account gets no mail, neither the invitation nor a
// re-send: its link could not work, and a person locked out has no use for it. Before, the mail went out
// with a link whose page said "revoked".
func TestInvitingADisabledAccount(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	gone := e.createUser("gone@beta.example", "Gerd", "", map[int64]string{b.ID: "viewer"})
	if _, err := e.db.W.Exec(`UPDATE users SET disabled_at = 1 WHERE id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}
	mailsTo := func(addr string) int {
		n := 0
		for _, m := range e.mails() {
			if strings.EqualFold(m.To, addr) {
				n++
			}
		}
		return n
	}
	invite := func(addr string) (*http.Response, string) {
		return e.post("/o/alpha/people/invite", url.Values{"email": {addr}, "name": {"Gerd"}, "role": {"viewer"}, "lang": {"en"}}, nil)
	}

	peopleSignIn(e, "theo@msp.example")
	resp, body := invite(gone.Email)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "belongs to a disabled account") {
		t.Fatalf("staff inviting a disabled account: %d %s", resp.StatusCode, messageID(t, body))
	}
	if n := countRows(t, e, `SELECT count(*) FROM invitations WHERE user_id = ?`, gone.ID); n != 0 || mailsTo(gone.Email) != 0 {
		t.Fatalf("after staff's refused invitation: %d invitations, %d mails", n, mailsTo(gone.Email))
	}

	peopleSignIn(e, "mara@alpha.example")
	unknown, _ := invite("neu@alpha.example")
	resp, _ = invite(gone.Email)
	if resp.StatusCode != unknown.StatusCode || location(resp) != location(unknown) {
		t.Fatalf("a manager's answer for a disabled account %d %q, for an unknown address %d %q", resp.StatusCode, location(resp),
			unknown.StatusCode, location(unknown))
	}
	if mailsTo("neu@alpha.example") != 1 || mailsTo(gone.Email) != 0 {
		t.Fatalf("mails: %d to the unknown address, %d to the disabled account", mailsTo("neu@alpha.example"), mailsTo(gone.Email))
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'invite.create' AND target LIKE ?`, gone.Email+"%"); n != 1 {
		t.Errorf("%d invite.create entries for the disabled account", n)
	}
	var id string
	if err := e.db.R.QueryRow(`SELECT id FROM invitations WHERE user_id = ? AND revoked_at IS NULL`, gone.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.post("/o/alpha/invitations/"+id+"/resend", nil, nil); resp.StatusCode != http.StatusSeeOther || mailsTo(gone.Email) != 0 {
		t.Errorf("the manager's re-send: %d, %d mails", resp.StatusCode, mailsTo(gone.Email))
	}

	peopleSignIn(e, "theo@msp.example")
	if err := e.db.R.QueryRow(`SELECT id FROM invitations WHERE user_id = ? AND revoked_at IS NULL`, gone.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	resp, body = e.post("/o/alpha/invitations/"+id+"/resend", nil, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "belongs to a disabled account") || mailsTo(gone.Email) != 0 {
		t.Errorf("staff's re-send: %d %s, %d mails", resp.StatusCode, messageID(t, body), mailsTo(gone.Email))
	}
}
