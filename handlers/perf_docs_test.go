package handlers

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// The cached list must answer exactly what db.DocList answers: same rows, same order, same total, for
// every sort, direction, filter, page and viewer.
func TestDocListCacheMatchesSQL(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta AG", "beta")
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"srv-01", "SRV-01", "Srv-02", "Ärger", "arger", "zeta", "Zeta", "ZETA", "a", "A", "b", "_x", "ß", "Ölfilter", "ölfilter", "10", "9"}
	kinds := []string{"server", "laptop", "switch", "printer"}
	makers := []string{"Dell", "dell", "HP", "Lenovo", "lenovo", ""}
	for i := range 260 {
		org := a.ID
		if i%7 == 0 {
			org = b.ID
		}
		f := map[string]string{"kind": kinds[r.IntN(len(kinds))]}
		if m := makers[r.IntN(len(makers))]; m != "" {
			f["manufacturer"] = m
		}
		if r.IntN(3) > 0 {
			f["location"] = names[r.IntN(len(names))]
		}
		_, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: org, Area: "configurations", Name: names[r.IntN(len(names))],
			Fields: f, StaffOnly: r.IntN(8) == 0}, db.DocActor{Name: "T"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i%13 == 0 {
			e.clock.Advance(time.Second) // some equal, some different update times
		}
	}
	ids := func(items []*db.DocItem) []int64 {
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	check := func(q db.DocQuery) {
		t.Helper()
		want, wantTotal, err := e.db.DocList(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, gotTotal, err := e.srv.docList(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if gotTotal != wantTotal || !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("%+v:\n cache %d %v\n sql   %d %v", q, gotTotal, ids(got), wantTotal, ids(want))
		}
		for _, it := range got {
			if it.OrgID != q.OrgID || (!q.StaffView && it.StaffOnly) {
				t.Fatalf("%+v: item %d of org %d (staff-only %v) listed", q, it.ID, it.OrgID, it.StaffOnly)
			}
		}
	}
	for _, org := range []int64{a.ID, b.ID} {
		for _, staff := range []bool{false, true} {
			for _, sortBy := range []string{"", "name", "updated", "manufacturer", "location", "kind"} {
				for _, desc := range []bool{false, true} {
					for _, flt := range []map[string]string{{}, {"kind": "server"}, {"manufacturer": ""}, {"manufacturer": "dell", "kind": "laptop"}} {
						for _, off := range []int{0, 50, 200, 1000} {
							check(db.DocQuery{DocScope: db.DocScope{OrgID: org, StaffView: staff}, Area: "configurations",
								Sort: sortBy, Desc: desc, Filters: flt, Offset: off, Limit: 50})
						}
					}
				}
			}
		}
	}
	// A write is seen by the next read: a new item, a change, a deletion.
	sc := db.DocScope{OrgID: a.ID}
	q := db.DocQuery{DocScope: sc, Area: "configurations", Limit: 200}
	check(q)
	id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: a.ID, Area: "configurations", Name: "0-first",
		Fields: map[string]string{"kind": "server"}}, db.DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := e.srv.docList(ctx, q)
	if len(got) == 0 || got[0].ID != id {
		t.Fatal("a new item is missing from the cached list")
	}
	check(q)
	if err := e.db.DocUpdate(ctx, e.srv.cfg.Sealer, id, db.DocChange{OrgID: a.ID, Area: "configurations", Name: "zzz-last",
		Fields: map[string]string{"kind": "server"}, StaffOnly: true, Version: 1}, db.DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	check(q)
	check(db.DocQuery{DocScope: db.DocScope{OrgID: a.ID, StaffView: true}, Area: "configurations", Limit: 200, Offset: 100})
	if err := e.db.DocSetDeleted(ctx, e.srv.cfg.Sealer, a.ID, id, true, db.DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	check(db.DocQuery{DocScope: db.DocScope{OrgID: a.ID, StaffView: true}, Area: "configurations", Limit: 200, Offset: 100})
	counts, err := e.srv.docCounts(ctx, db.DocScope{OrgID: a.ID, StaffView: true})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := e.db.DocCounts(ctx, db.DocScope{OrgID: a.ID, StaffView: true}); counts["configurations"] != want["configurations"] {
		t.Fatalf("counts %v, want %v", counts, want)
	}
}

// Through the pages: what one person just saved shows in the next list, menu counts follow, staff-only items
// never reach a customer, and one organisation's list never shows another's items.
func TestDocListCacheThroughPages(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	_, body := e.get("/o/alpha/docs/passwords", nil)
	if strings.Contains(body, "Domain admin") || strings.Contains(body, "Beta secret") {
		t.Fatal("customer list shows a staff-only item or another organisation's item")
	}
	f.as(f.tech)
	_, body = e.get("/o/alpha/docs/passwords", nil) // fills the cache for staff
	if !strings.Contains(body, "Domain admin") {
		t.Fatal("staff list lacks the staff-only item")
	}
	resp, body := e.post("/o/alpha/docs/passwords", map[string][]string{"name": {"Neues Konto"}, "username": {"neu"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d %.300s", resp.StatusCode, body)
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Neues Konto") {
		t.Fatal("the new item is missing from the next list")
	}
	if c := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); c != "3" {
		t.Fatalf("menu count %q, want 3", c)
	}
	f.as(f.viewer)
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Neues Konto") || strings.Contains(body, "Domain admin") {
		t.Fatal("customer list after a change: new item missing or staff-only item shown")
	}
	if c := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); c != "2" {
		t.Fatalf("customer menu count %q, want 2", c)
	}
	f.as(f.stranger)
	_, body = e.get("/o/beta/docs/passwords", nil)
	if strings.Contains(body, "Neues Konto") || strings.Contains(body, "NAS admin") || !strings.Contains(body, "Beta secret") {
		t.Fatalf("organisation B's list is wrong: %.2000s", body)
	}
}

// Nothing kept in memory between requests decides access: a changed role, a removed membership and a
// disabled account take effect on the very next request, after the caches were filled.
func TestAccessChangesTakeEffectAtOnce(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	f.as(f.mgr)
	for _, p := range []string{"/o/alpha/docs/contacts", "/o/alpha/people", "/o/alpha"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 200 {
			t.Fatalf("manager %s: %d", p, resp.StatusCode)
		}
	}
	if err := e.db.SetMemberRole(ctx, f.mgr.ID, f.a.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/people", nil); resp.StatusCode != 404 {
		t.Fatalf("people page after losing the manager role: %d", resp.StatusCode)
	}
	if _, err := e.db.W.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND org_id = ?`, f.mgr.ID, f.a.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 404 {
		t.Fatalf("list after the membership was removed: %d", resp.StatusCode)
	}
	// Disabled without its sessions being ended (as a direct database change would do): still refused.
	f.as(f.viewer)
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 200 {
		t.Fatalf("viewer list: %d", resp.StatusCode)
	}
	if _, err := e.db.W.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, e.clock.Now().Unix(), f.viewer.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("disabled person's next request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
