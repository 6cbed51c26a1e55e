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

// Disk trouble, simulated on the single writer connection, because the tests run as root and a
// chmod'ed file or folder would not stop root: PRAGMA query_only makes every write fail with
// SQLITE_READONLY (a read-only data folder), PRAGMA max_page_count at the current size makes every write
// that needs space fail with SQLITE_FULL (a full disk). Both are undone on the same connection, as space
// coming back would be, without a restart.
func TestDiskTroubleWritesFailClearlyReadsWork(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	f.as(f.tech)
	signedIn := e.client.Jar
	list := "/o/alpha/docs/configurations"
	detail := fmt.Sprintf("%s/%d", list, f.items["configurations"])
	reveal := fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/password", f.items["passwords"])
	bigNotes := strings.Repeat("Notizen zum Server. ", 450) // 9,000 characters: needs new pages

	readOnly := func(on bool) {
		t.Helper()
		v := 0
		if on {
			v = 1
		}
		if _, err := e.db.W.ExecContext(ctx, fmt.Sprintf("PRAGMA query_only = %d", v)); err != nil {
			t.Fatal(err)
		}
	}
	full := func(on bool) {
		t.Helper()
		limit := 1073741823 // SQLite's default
		if on {
			if err := e.db.W.QueryRowContext(ctx, "PRAGMA page_count").Scan(&limit); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.db.W.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", limit)); err != nil {
			t.Fatal(err)
		}
	}
	// Read-only refuses every write. A full database refuses writes that need more space; a small one
	// that fits into a page with room left still succeeds, as on a real full disk.
	for _, trouble := range []struct {
		name string
		set  func(bool)
		all  bool
	}{{"read-only", readOnly, true}, {"full", full, false}} {
		t.Run(trouble.name, func(t *testing.T) {
			e.client.Jar = signedIn
			trouble.set(true)

			// Reads keep working.
			for _, path := range []string{list, detail, "/o/alpha", "/o/alpha/search?q=FW", "/healthz"} {
				if resp, body := e.get(path, nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: GET %s = %d\n%.300s", trouble.name, path, resp.StatusCode, body)
				}
			}
			before := e.dbCounts() // (a view's access-log line may fit into a full database)
			// Writes fail with a clear, localized 503 and change nothing.
			resp, body := e.post(list, url.Values{"name": {"SRV-NEU"}, "kind": {"server"}, "notes": {bigNotes}}, nil)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Changes cannot be saved right now") ||
				strings.Contains(body, "readonly") || strings.Contains(body, "disk is full") || strings.Contains(body, "sqlite") {
				t.Fatalf("%s: create = %d\n%.600s", trouble.name, resp.StatusCode, body)
			}
			resp, body = e.post(list, url.Values{"name": {"SRV-NEU"}, "kind": {"server"}, "notes": {bigNotes}}, map[string]string{"HX-Request": "true"})
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Changes cannot be saved right now") {
				t.Fatalf("%s: htmx create = %d\n%.300s", trouble.name, resp.StatusCode, body)
			}
			if !trouble.all {
				if after := e.dbCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("%s: the database changed:\n before %v\n after  %v", trouble.name, before, after)
				}
				trouble.set(false)
				if resp, body := e.post(list, url.Values{"name": {"SRV-" + trouble.name}, "kind": {"server"}, "notes": {bigNotes}}, nil); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: create after recovery = %d\n%.300s", trouble.name, resp.StatusCode, body)
				}
				return
			}
			// A reveal needs its audit entry: without it, no secret.
			if resp, body := e.post(reveal, nil, nil); resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, marker) {
				t.Fatalf("%s: reveal = %d", trouble.name, resp.StatusCode)
			}
			// Sign-ins fail closed: no session without its database write.
			e.newClient()
			resp, body = e.post("/login", url.Values{"email": {f.viewer.Email}, "password": {testPassword}}, map[string]string{"Accept-Language": "de"})
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Änderungen können gerade nicht gespeichert werden") {
				t.Fatalf("%s: sign-in = %d\n%.300s", trouble.name, resp.StatusCode, body)
			}
			for _, ck := range resp.Cookies() {
				if ck.Name == e.srv.sm.Cookie.Name && ck.Value != "" {
					t.Fatalf("%s: a failed sign-in set a session cookie", trouble.name)
				}
			}
			if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Fatalf("%s: after the failed sign-in the portal answers %d (%s)", trouble.name, resp.StatusCode, resp.Header.Get("Location"))
			}
			if after := e.dbCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("%s: the database changed:\n before %v\n after  %v", trouble.name, before, after)
			}
			if !strings.Contains(e.logBuf.String(), "request failed") {
				t.Fatalf("%s: the cause is not in the log", trouble.name)
			}

			// Space returns: writes and sign-ins work again, without a restart.
			trouble.set(false)
			e.client.Jar = signedIn
			if resp, body := e.post(list, url.Values{"name": {"SRV-" + trouble.name}, "kind": {"server"}, "notes": {bigNotes}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: create after recovery = %d\n%.300s", trouble.name, resp.StatusCode, body)
			}
			e.newClient()
			e.login(f.viewer.Email, testPassword)
			if resp, _ := e.get("/o/alpha", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: sign-in after recovery: %d", trouble.name, resp.StatusCode)
			}
		})
	}
	items, _, err := e.db.DocList(ctx, db.DocQuery{DocScope: db.DocScope{OrgID: f.a.ID, StaffView: true}, Area: "configurations", Limit: 50})
	if err != nil || len(items) != 3 {
		t.Fatalf("%d configurations after both recoveries (%v), want the first and one per recovery", len(items), err)
	}
}
