package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
)

// detailPaths are the item pages of org A that seedDetailParity and the fixture make, the staff-only one
// among them.
func detailPaths(f *docsFixture, router int64) []string {
	paths := []string{fmt.Sprintf("/o/alpha/docs/configurations/%d", router), fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)}
	for area, id := range f.items {
		paths = append(paths, fmt.Sprintf("/o/alpha/docs/%s/%d", area, id))
	}
	return paths
}

// An item page kept for one person is served to another only when theirs would be the same bytes: for
// every ordered pair of staff, a customer's manager and a customer's reader, the second person's pages
// after the first filled the cache are exactly their pages without the cache (a manager edits contacts,
// a reader does not; staff see staff-only links, files, documents and items).
func TestDocDetailFragmentsKeepViewersApart(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	router := seedDetailParity(t, f)
	paths := detailPaths(f, router)
	svc := e.srv.docs
	t.Cleanup(func() { svc.SetCacheBytes(32 << 20) })
	users := []*db.User{f.tech, f.mgr, f.viewer}
	pages := func(u *db.User) map[string]string {
		t.Helper()
		f.as(u)
		out := map[string]string{}
		for _, p := range paths {
			resp, body := e.get(p, nil)
			out[p] = fmt.Sprint(resp.StatusCode) + "\n" + nonces.ReplaceAllString(body, `nonce=""`)
		}
		return out
	}
	svc.SetCacheBytes(0)
	uncached := map[*db.User]map[string]string{}
	for _, u := range users {
		uncached[u] = pages(u)
	}
	for _, first := range users {
		for _, second := range users {
			if first == second {
				continue
			}
			svc.SetCacheBytes(32 << 20)
			pages(first)
			got := pages(second)
			for _, p := range paths {
				if got[p] != uncached[second][p] {
					t.Errorf("%s after %s: %s differs from the uncached page\n%s", second.Email, first.Email, p, firstDiff(uncached[second][p], got[p]))
				}
			}
		}
	}
}

// Every look at an item is in the access log, from the cache or not: once per person and item per
// AuditWindow, with the item's name as it is now and staff-only when the item is.
func TestDocDetailFromTheCacheIsAuditedForEachPerson(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	router := seedDetailParity(t, f)
	tech2 := e.createUser("tech2@msp.example", "Tim Zweit", "technician", nil)
	item := fmt.Sprintf("/o/alpha/docs/configurations/%d", router)
	hidden := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	views := func(path string, users ...*db.User) {
		t.Helper()
		for _, u := range users {
			f.as(u)
			for range 2 {
				if resp, _ := e.get(path, nil); resp.StatusCode != 200 {
					t.Fatalf("%s %s: %d", u.Email, path, resp.StatusCode)
				}
			}
		}
	}
	entries := func() map[int64][]db.AuditEntry {
		t.Helper()
		all, err := e.db.AuditList(ctx, db.AuditFilter{OrgID: f.a.ID, Action: "docs.view", ActionExact: true, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		by := map[int64][]db.AuditEntry{}
		for _, en := range all {
			by[en.ActorID] = append(by[en.ActorID], en)
		}
		return by
	}
	// The reader fills the cache, the manager (the same class outside contacts) is served from it.
	views(item, f.viewer, f.mgr)
	views(hidden, f.tech, tech2)
	got := entries()
	for _, u := range []*db.User{f.viewer, f.mgr} {
		if len(got[u.ID]) != 1 || got[u.ID][0].StaffOnly || !strings.HasSuffix(got[u.ID][0].Target, ":configurations:RT-01") {
			t.Errorf("%s: %+v, want one entry of RT-01", u.Email, got[u.ID])
		}
	}
	for _, u := range []*db.User{f.tech, tech2} {
		if len(got[u.ID]) != 1 || !got[u.ID][0].StaffOnly || !strings.HasSuffix(got[u.ID][0].Target, ":passwords:Domain admin") {
			t.Errorf("%s: %+v, want one staff-only entry of Domain admin", u.Email, got[u.ID])
		}
	}
	// Renamed and made staff-only: staff's next look names it anew and is staff-only.
	it, err := e.db.DocGet(ctx, db.DocScope{OrgID: f.a.ID, StaffView: true}, "configurations", router)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DocUpdate(ctx, e.srv.cfg.Sealer, router, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: "RT-02",
		Fields: it.Fields, StaffOnly: true, Version: it.Version}, db.DocActor{Name: "Tech"}, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * time.Minute)
	views(item, f.tech, tech2)
	got = entries()
	for _, u := range []*db.User{f.tech, tech2} {
		if len(got[u.ID]) != 2 || !got[u.ID][0].StaffOnly || !strings.HasSuffix(got[u.ID][0].Target, ":configurations:RT-02") {
			t.Errorf("%s: %+v, want a staff-only entry of RT-02", u.Email, got[u.ID])
		}
	}
	f.as(f.viewer)
	if resp, _ := e.get(item, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a staff-only item for a reader: %d", resp.StatusCode)
	}
	if n := len(entries()[f.viewer.ID]); n != 1 {
		t.Fatalf("a refused look was audited: %d entries", n)
	}
}

// TestParallelDetailViewsRacingStaffOnly: readers ask for an item's page while staff make it staff-only
// and visible again; a page asked for after the write returned never shows the item to the reader, and a
// page asked for after it was made visible again never answers 404 (run with -race).
func TestParallelDetailViewsRacingStaffOnly(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	router := seedDetailParity(t, f)
	item := fmt.Sprintf("/o/alpha/docs/configurations/%d", router)
	f.as(f.viewer)
	client := &http.Client{Jar: e.client.Jar, CheckRedirect: e.client.CheckRedirect, Transport: e.client.Transport}
	get := func() (int, string) {
		resp, err := client.Get(e.URL(item))
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Error(err)
		}
		return resp.StatusCode, string(b)
	}
	staff := db.DocScope{OrgID: f.a.ID, StaffView: true}
	set := func(on bool) {
		it, err := e.db.DocGet(ctx, staff, "configurations", router)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.DocUpdate(ctx, e.srv.cfg.Sealer, router, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: it.Name,
			Fields: it.Fields, StaffOnly: on, Version: it.Version}, db.DocActor{Name: "Tech"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 6 {
		hide := round%2 == 0
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						get()
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		set(hide)
		// Every request from here on starts after the write.
		for range 20 {
			code, body := get()
			if hide && (code != http.StatusNotFound || strings.Contains(body, "RT-01")) {
				t.Errorf("round %d: after the item was made staff-only the reader got %d", round, code)
			}
			if !hide && code != http.StatusOK {
				t.Errorf("round %d: after the item was shown again the reader got %d", round, code)
			}
		}
		close(stop)
		wg.Wait()
	}
}

// What people type cannot stand in for the mark where the cached content of an item page tells of a
// refused upload (views' filesMark): an item named like the mark, with the mark in its notes, a link's
// label and a file's name, is written escaped; a refused upload is told once, above the files, the same
// with the cache as without it.
func TestDocDetailTypedValuesCannotPlaceTheFilesMark(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	const mark = "<!--portier:files-error-->"
	staff, by := db.DocScope{OrgID: f.a.ID, StaffView: true}, db.DocActor{Name: "Setup"}
	id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: mark + strings.Repeat("x", 150),
		Fields: map[string]string{"notes": mark + "\n" + mark, "location": mark}}, by, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DocLinkAdd(ctx, staff, id, f.items["passwords"], mark, by, nil); err != nil {
		t.Fatal(err)
	}
	item := fmt.Sprintf("/o/alpha/docs/configurations/%d", id)
	f.as(f.tech)
	if resp, _ := e.upload(item, mark+".txt", []byte("inhalt"), false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	svc := e.srv.docs
	t.Cleanup(func() { svc.SetCacheBytes(32 << 20) })
	page := func(cache int) string {
		t.Helper()
		svc.SetCacheBytes(cache)
		e.get(item, nil) // the cache filled, when on
		if resp, _ := e.upload(item, "leer.txt", nil, false); resp.StatusCode != 303 {
			t.Fatalf("refused upload: %d", resp.StatusCode)
		}
		resp, body := e.get(item, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if strings.Contains(body, mark) {
			t.Fatalf("cache %d: the mark is in the page", cache)
		}
		d := doc(t, body)
		if n := d.Find(`[data-testid="files-error"]`).Length(); n != 1 {
			t.Fatalf("cache %d: the refused upload is told %d times", cache, n)
		}
		if d.Find(`[data-testid="attachments"] [data-testid="files-error"]`).Length() != 1 {
			t.Fatalf("cache %d: the refused upload is told outside the files", cache)
		}
		if got := d.Find(`[data-testid="doc-name"]`).Text(); got != mark+strings.Repeat("x", 150) {
			t.Fatalf("cache %d: the name is %q", cache, got)
		}
		return nonces.ReplaceAllString(body, `nonce=""`)
	}
	if cached, uncached := page(32<<20), page(0); cached != uncached {
		t.Fatalf("the page differs with the cache\n%s", firstDiff(uncached, cached))
	}
}
