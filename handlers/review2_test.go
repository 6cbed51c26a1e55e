package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Two people pressing the same role change at once (a manager and MSP staff, each seeing "viewer"): the
// role changes once and the log says so once. The entry is written in the change's transaction, so it
// must name the role that transaction found: before, the role read with the page (stale by then) made
// the second press write "viewer → manager" again for a change that did not happen.
func TestParallelRoleChangeLogsOnlyWhatChanged(t *testing.T) {
	e := newTestEnv(t, cheapHashing)
	a := e.createOrg("Alpha GmbH", "alpha")
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	mara, theo := newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{"mara@alpha.example": mara, "theo@msp.example": theo} {
		e.client = c
		e.login(who, testPassword)
	}
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
	e.createUser("mara@alpha.example", "Mara", "", map[int64]string{a.ID: "manager"})
	e.createUser("theo@msp.example", "Theo", "technician", nil)
	mara, theo := newBrowser(), newBrowser()
	for who, c := range map[string]*http.Client{"mara@alpha.example": mara, "theo@msp.example": theo} {
		e.client = c
		e.login(who, testPassword)
	}
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
