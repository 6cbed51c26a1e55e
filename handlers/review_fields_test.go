package handlers

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Review of custom fields, the expiry overview and its digest, attachments: attacks through the real
// router, each pinned by a test that failed before its fix.

// The digest goes to the addresses the organisation named, but never to a person who was disabled, nor
// to an account that belongs only to another organisation (a manager typing a stranger's address, or a
// list saved before the person left): their address is skipped at sending time. An address that is no
// account (the office mailbox) and MSP staff still get it.
func TestExpiryDigestReachesOnlyThoseWhoStillBelong(t *testing.T) {
	f := expiryFixture(t)
	e := f.e
	gone := e.createUser("gone@alpha.example", "Gerd Gegangen", "", map[int64]string{f.a.ID: "viewer"})
	f.as(f.mgr)
	rcpt := []string{"buero@alpha.example", f.viewer.Email, gone.Email, f.stranger.Email, f.tech.Email}
	if resp, body := e.post("/o/alpha/expiry/digest", url.Values{"recipients": {strings.Join(rcpt, "\n")}, "lang": {"en"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("digest settings: %d %.300s", resp.StatusCode, body)
	}
	// Gerd leaves: his account is disabled after the list was saved.
	if err := e.db.SetDisabled(context.Background(), gone.ID, true); err != nil {
		t.Fatal(err)
	}
	n, err := e.srv.SendExpiryDigests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range e.mails() {
		if m.Kind == "mail.expiry_digest.subject" || strings.Contains(m.Subject, "expires soon") {
			got = append(got, m.To)
			if strings.Contains(m.Text, "Intern-Zertifikat") {
				t.Errorf("digest to %s holds a staff-only entry", m.To)
			}
		}
	}
	slices.Sort(got)
	want := []string{"buero@alpha.example", f.tech.Email, f.viewer.Email}
	slices.Sort(want)
	if !slices.Equal(got, want) || n != len(want) {
		t.Errorf("digest went to %v (%d counted), want %v", got, n, want)
	}
}
