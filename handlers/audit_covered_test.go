package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

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

	ctx := context.Background()
	conn, err := e.db.W.DB.Conn(ctx) // the writer's only connection: whoever needs it waits
	if err != nil {
		t.Fatal(err)
	}
	waits := e.db.W.Stats().WaitCount
	for _, r := range requests {
		type answer struct {
			status int
			body   string
		}
		done := make(chan answer, 1)
		go func() {
			resp, body := r.send()
			done <- answer{resp.StatusCode, body}
		}()
		select {
		case a := <-done:
			if a.status != 200 || !strings.Contains(a.body, r.want) {
				t.Errorf("%s again while the writer is busy: %d", r.name, a.status)
			}
		case <-time.After(10 * time.Second):
			conn.Close()
			<-done
			t.Fatalf("%s again waited for the writer, though an entry of the window covers it", r.name)
		}
	}
	if n := e.db.W.Stats().WaitCount - waits; n != 0 {
		t.Errorf("covered requests waited for the writer %d times", n)
	}
	conn.Close()

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
