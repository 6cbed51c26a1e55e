package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/docsapp"
)

// A look or a reveal already covered by a committed entry of the audit window is answered without waiting
// for the database's writer (the audit log's group commit): one read says so, and nothing more is written.
// One that is not covered — another field, or the same look after the window — still waits for the writer
// and is written once it is free. Before, every look and reveal queued for the writer, even when its
// insert then found the entry and wrote nothing.
func TestACoveredLookOrRevealDoesNotWaitForTheWriter(t *testing.T) {
	f, e, _, item := m365Page(t)
	hx := map[string]string{"HX-Request": "true"}
	requests := []struct {
		name string
		send func() (*http.Response, string)
		want string // in the answer's body
	}{
		{"look", func() (*http.Response, string) { return e.get(item, nil) }, "M365"},
		{"reveal", func() (*http.Response, string) { return e.post(item+"/secret/password", nil, hx) }, "m365-" + marker},
	}
	for _, r := range requests {
		if resp, body := r.send(); resp.StatusCode != 200 || !strings.Contains(body, r.want) {
			t.Fatalf("first %s: %d", r.name, resp.StatusCode)
		}
	}

	h := e.holdWriter(t)
	for _, r := range requests {
		done := later(r.send)
		select {
		case a := <-done:
			if a.resp.StatusCode != 200 || !strings.Contains(a.body, r.want) {
				t.Errorf("%s again while the writer is busy: %d", r.name, a.resp.StatusCode)
			}
		case <-time.After(10 * time.Second):
			h.release(false)
			<-done
			t.Fatalf("%s again waited for the writer, though an entry of the window covers it", r.name)
		}
	}
	if h.waited() {
		t.Error("a covered request waited for the writer")
	}
	h.release(false)

	noChange := func(*sql.Tx) error { return nil }
	// Another field of the same item is not covered: it waits for the writer (whileWriterHeld fails the
	// test if it does not) and is written.
	if resp, body := e.whileWriterHeld(t, func() (*http.Response, string) { return e.post(item+"/secret/totp", nil, hx) }, noChange); resp.StatusCode != 200 {
		t.Fatalf("reveal of another field: %d %.200s", resp.StatusCode, body)
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal"); len(got) != 2 || got[0].Field != "password" || got[1].Field != "totp" {
		t.Fatalf("reveals: %+v, want password then totp", got)
	}
	// After the window the same look is not covered any more.
	e.clock.Advance(docsapp.AuditWindow + time.Second)
	if resp, _ := e.whileWriterHeld(t, requests[0].send, noChange); resp.StatusCode != 200 {
		t.Fatalf("look after the window: %d", resp.StatusCode)
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.view"); len(got) != 2 {
		t.Fatalf("looks: %d entries, want 2 (one per window)", len(got))
	}
}

// Parallel first looks and reveals are covered by nothing, so every one of them reads "not covered" and
// goes on to the writer's group commit: still one entry per person, item and field. The same at the edge
// of the window: just inside it a second wave writes nothing; once the window is over, all of a wave read
// "not covered" again and together leave exactly one more entry each.
func TestParallelFirstLooksAndRevealsLeaveOneEntryPerWindow(t *testing.T) {
	f, e, _, item := m365Page(t)
	hx := map[string]string{"HX-Request": "true"}
	wave := func(name string) {
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				var resp *http.Response
				switch i % 3 {
				case 0:
					resp, _ = e.get(item, nil)
				case 1:
					resp, _ = e.post(item+"/secret/password", nil, hx)
				default:
					resp, _ = e.post(item+"/secret/totp", nil, hx)
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: request %d: %d", name, i, resp.StatusCode)
				}
			})
		}
		wg.Wait()
	}
	count := func(want int, when string) {
		t.Helper()
		if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.view"); len(got) != want {
			t.Errorf("%s: %d looks audited, want %d", when, len(got), want)
		}
		fields := map[string]int{}
		for _, r := range auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal") {
			fields[r.Field]++
		}
		if fields["password"] != want || fields["totp"] != want || len(fields) != 2 {
			t.Errorf("%s: reveals per field %v, want %d each", when, fields, want)
		}
	}
	wave("first")
	count(1, "first wave")
	e.clock.Advance(docsapp.AuditWindow - 2*time.Second)
	wave("inside the window")
	count(1, "inside the window")
	e.clock.Advance(2 * time.Second) // the first entries are now exactly one window old: no longer covering
	wave("after the window")
	count(2, "after the window")
}

// An entry in a transaction not yet committed covers nothing: the read before the group commit must not
// see it (it runs on a reader connection), so a reveal meanwhile waits for the writer. When that
// transaction is rolled back the reveal writes its own entry and only then answers.
func TestAnUncommittedEntryDoesNotCoverAReveal(t *testing.T) {
	f, e, id, item := m365Page(t)
	h := e.holdWriter(t)
	if err := e.db.Audit(context.Background(), h.tx, db.AuditEntry{ActorID: f.viewer.ID, OrgID: f.a.ID, Action: "docs.reveal",
		Target: docsapp.ItemTarget(id, "passwords", "password", "M365"), Field: "password"}); err != nil {
		t.Fatal(err)
	}
	done := later(func() (*http.Response, string) {
		return e.post(item+"/secret/password", nil, map[string]string{"HX-Request": "true"})
	})
	h.untilWaited(t) // answered on the uncommitted entry, it would never ask for the writer
	if err := h.release(false); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.resp.StatusCode != 200 || !strings.Contains(a.body, "m365-"+marker) {
		t.Fatalf("reveal after the rollback: %d", a.resp.StatusCode)
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal"); len(got) != 1 || got[0].Field != "password" {
		t.Fatalf("reveals audited: %+v, want the reveal's own entry", got)
	}
}

// A committed entry of another person, another item whose id starts with the same digits, another field or
// another action covers nothing: each of these requests waits for the writer and leaves its own entry.
func TestEntriesThatDoNotCoverALookOrReveal(t *testing.T) {
	f, e, id, item := m365Page(t)
	ctx := context.Background()
	hx := map[string]string{"HX-Request": "true"}
	prefix := fmt.Sprint(id)
	for _, o := range []db.AuditEntry{
		{ActorID: f.mgr.ID, Action: "docs.reveal", Target: prefix + ":passwords.password:M365", Field: "password"}, // another person
		{ActorID: f.mgr.ID, Action: "docs.view", Target: prefix + ":passwords:M365"},
		{ActorID: f.viewer.ID, Action: "docs.reveal", Target: prefix + "5:passwords.password:X", Field: "password"}, // item 55 for 5
		{ActorID: f.viewer.ID, Action: "docs.view", Target: prefix + "5:passwords:X"},
		{ActorID: f.viewer.ID, Action: "docs.reveal", Target: prefix + ":passwords.totp:M365", Field: "totp"},       // another field
		{ActorID: f.viewer.ID, Action: "docs.copy", Target: prefix + ":passwords.password:M365", Field: "password"}, // another action
		{ActorID: f.viewer.ID, Action: "docs.reveal_old", Target: prefix + ":passwords.password:M365", Field: "password"},
		{ActorID: f.viewer.ID, Action: "docs.update", Target: prefix + ":passwords:M365"},
	} {
		o.OrgID = f.a.ID
		if err := e.db.Audit(ctx, nil, o); err != nil {
			t.Fatal(err)
		}
	}
	noChange := func(*sql.Tx) error { return nil }
	for _, r := range []struct {
		name string
		send func() (*http.Response, string)
	}{
		{"look", func() (*http.Response, string) { return e.get(item, nil) }},
		{"reveal", func() (*http.Response, string) { return e.post(item+"/secret/password", nil, hx) }},
	} {
		if resp, _ := e.whileWriterHeld(t, r.send, noChange); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", r.name, resp.StatusCode)
		}
	}
	n := 0
	for _, r := range auditOf(t, e, f.a.ID, f.viewer.ID, "docs.view") {
		if strings.HasPrefix(r.Target, prefix+":") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("looks at the item by the viewer: %d, want 1", n)
	}
	n = 0
	for _, r := range auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal") {
		if strings.HasPrefix(r.Target, prefix+":") && r.Field == "password" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("password reveals of the item by the viewer: %d, want 1", n)
	}
}

// A look or reveal by MSP staff at an item that is no longer staff-only belongs in the customer's access
// log. An entry written while the item was staff-only is hidden from the customer, so it must not cover
// the next look or reveal once the item is visible.
func TestAStaffOnlyEntryDoesNotCoverALookAfterTheItemIsVisible(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	hx := map[string]string{"HX-Request": "true"}
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	f.as(f.tech)
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("staff look: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("staff reveal: %d", resp.StatusCode)
	}
	it, err := e.db.DocGet(ctx, db.DocScope{OrgID: f.a.ID, StaffView: true}, "passwords", f.secretID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DocUpdate(ctx, e.srv.cfg.Sealer, f.secretID, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: it.Name,
		Fields: it.Fields, StaffOnly: false, Version: it.Version}, db.DocActor{Name: "Setup"}, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("staff look after: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("staff reveal after: %d", resp.StatusCode)
	}
	f.as(f.mgr)
	// The customer now sees the item: its page, and its secret.
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("customer look at the now visible item: %d", resp.StatusCode)
	}
	for _, action := range []string{"docs.view", "docs.reveal"} {
		visible := 0
		for _, r := range auditOf(t, e, f.a.ID, f.tech.ID, action) {
			if !r.StaffOnly {
				visible++
			}
		}
		if visible != 1 {
			t.Errorf("%s by staff after the item became visible: %d entries the customer sees, want 1", action, visible)
		}
	}
}
