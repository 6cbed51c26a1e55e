package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// One-time things under parallel requests, found in the review of every route: each is consumed once,
// however many requests race for it. Named TestParallel… so CI runs them under -race.

// Forty posts of the first-administrator form at once through the same setup link, each with another
// address: one administrator is invited, the others find the link used.
func TestParallelFirstAdminSetupLink(t *testing.T) {
	e := newTestEnv(t)
	link, err := e.srv.FirstAdminLink(context.Background())
	if err != nil || link == "" {
		t.Fatalf("link %q %v", link, err)
	}
	path := strings.TrimPrefix(link, e.ts.URL)
	got := e.fire(burst, func(i int) (answer, error) {
		return e.postAs(newBrowser(), path, url.Values{"email": {fmt.Sprintf("admin%d@msp.example", i)},
			"name": {fmt.Sprintf("Admin %d", i)}, "lang": {"en"}})
	})
	if n := countStatus(got, http.StatusSeeOther); n != 1 {
		t.Fatalf("%d of %d setup posts were accepted, want 1: %v", n, burst, got)
	}
	if n := countStatus(got, http.StatusGone); n != burst-1 {
		t.Fatalf("%d of %d setup posts found the link used, want %d: %v", n, burst, burst-1, got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM invitations WHERE role = 'admin'`); n != 1 {
		t.Fatalf("%d administrator invitations, want 1", n)
	}
}
