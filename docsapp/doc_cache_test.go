package docsapp

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/docs"
)

// The cached list must answer exactly what db.DocList answers: same rows, same order, same total, for
// every sort, direction, filter, page and viewer.
func TestDocListCacheMatchesSQL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.a, f.b
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"srv-01", "SRV-01", "Srv-02", "Ärger", "arger", "zeta", "Zeta", "ZETA", "a", "A", "b", "_x", "ß", "Ölfilter", "ölfilter", "10", "9"}
	kinds := []string{"server", "laptop", "switch", "printer"}
	makers := []string{"Dell", "dell", "HP", "Lenovo", "lenovo", ""}
	for i := range 260 {
		org := a.ID
		if i%7 == 0 {
			org = b.ID
		}
		fields := map[string]string{"kind": kinds[r.IntN(len(kinds))]}
		if m := makers[r.IntN(len(makers))]; m != "" {
			fields["manufacturer"] = m
		}
		if r.IntN(3) > 0 {
			fields["location"] = names[r.IntN(len(names))]
		}
		_, err := f.db.DocCreate(ctx, f.sealer, db.DocChange{OrgID: org, Area: "configurations", Name: names[r.IntN(len(names))],
			Fields: fields, StaffOnly: r.IntN(8) == 0}, db.DocActor{Name: "T"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i%13 == 0 {
			f.clock.Advance(time.Second) // some equal, some different update times
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
		want, wantTotal, err := f.db.DocList(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, gotTotal, err := f.svc.list(ctx, q)
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
	id, err := f.db.DocCreate(ctx, f.sealer, db.DocChange{OrgID: a.ID, Area: "configurations", Name: "0-first",
		Fields: map[string]string{"kind": "server"}}, db.DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := f.svc.list(ctx, q)
	if len(got) == 0 || got[0].ID != id {
		t.Fatal("a new item is missing from the cached list")
	}
	check(q)
	if err := f.db.DocUpdate(ctx, f.sealer, id, db.DocChange{OrgID: a.ID, Area: "configurations", Name: "zzz-last",
		Fields: map[string]string{"kind": "server"}, StaffOnly: true, Version: 1}, db.DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	check(q)
	check(db.DocQuery{DocScope: db.DocScope{OrgID: a.ID, StaffView: true}, Area: "configurations", Limit: 200, Offset: 100})
	if err := f.db.DocSetDeleted(ctx, f.sealer, a.ID, id, true, db.DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	check(db.DocQuery{DocScope: db.DocScope{OrgID: a.ID, StaffView: true}, Area: "configurations", Limit: 200, Offset: 100})
	counts, err := f.svc.counts(ctx, db.DocScope{OrgID: a.ID, StaffView: true})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := f.db.DocCounts(ctx, db.DocScope{OrgID: a.ID, StaffView: true}); counts["configurations"] != want["configurations"] {
		t.Fatalf("counts %v, want %v", counts, want)
	}
}

// A request waiting for an area that another request is loading still gets it when that other request's
// client goes away, and only one load runs.
func TestDocCacheWaiterSurvivesTheLeadersCancellation(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "NAS admin", map[string]string{"username": "admin"}, map[string]string{"password": "geheim"}, false)
	f.add(t, f.a.ID, "passwords", "Domain admin", nil, map[string]string{"password": "geheimer"}, true)
	dc := f.svc.cache
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	loads := 0
	dc.loadAll = func(d *db.DB, ctx context.Context, org int64, area string) ([]*db.DocItem, error) {
		mu.Lock()
		loads++
		first := loads == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
		return d.DocAll(ctx, org, area)
	}
	type result struct {
		items []*db.DocItem
		err   error
	}
	leaderCtx, cancel := context.WithCancel(context.Background())
	leader, waiter := make(chan result, 1), make(chan result, 1)
	go func() {
		items, _, err := dc.area(leaderCtx, f.db, f.a.ID, "passwords")
		leader <- result{items, err}
	}()
	<-entered
	go func() {
		items, _, err := dc.area(context.Background(), f.db, f.a.ID, "passwords")
		waiter <- result{items, err}
	}()
	time.Sleep(50 * time.Millisecond) // the waiter joins the load under way
	cancel()                          // the leader's client goes away
	close(release)
	if r := <-leader; r.err != nil && !errors.Is(r.err, context.Canceled) {
		t.Fatalf("leader: %v", r.err) // its own request ended: it may stop waiting, nothing else
	}
	r := <-waiter
	if r.err != nil || len(r.items) != 2 {
		t.Fatalf("waiter: %d items, %v", len(r.items), r.err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return loads }
	if n := count(); n != 1 {
		t.Fatalf("%d loads, want one shared load", n)
	}
	// A list page works and came from that load.
	p, err := f.svc.List(context.Background(), f.customer(f.a, "viewer"), docs.Passwords, ListQuery{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Name != "NAS admin" {
		t.Fatalf("list after the cancelled load: %+v %v", p, err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d loads after the list page", n)
	}
}

// What the cache hands out is the handler's own: changing it changes nothing for the next request.
func TestDocCacheValuesAreCopies(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "NAS admin", map[string]string{"username": "admin"}, map[string]string{"password": "geheim"}, false)
	ctx := context.Background()
	q := db.DocQuery{DocScope: db.DocScope{OrgID: f.a.ID}, Area: "passwords", Limit: 50}
	items, _, err := f.svc.list(ctx, q)
	if err != nil || len(items) != 1 {
		t.Fatalf("list: %d %v", len(items), err)
	}
	items[0].Name = "changed"
	items[0].Fields["username"] = "changed"
	items[0].Secrets["password"] = false
	again, _, err := f.svc.list(ctx, q)
	if err != nil || again[0].Name != "NAS admin" || again[0].Fields["username"] != "admin" || !again[0].Secrets["password"] {
		t.Fatalf("a handler's change reached the cache: %+v %v", again[0], err)
	}
	sc := db.DocScope{OrgID: f.a.ID}
	counts, err := f.svc.counts(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	counts["passwords"] = 99
	if counts, _ = f.svc.counts(ctx, sc); counts["passwords"] != 1 {
		t.Fatalf("a handler's change reached the cached counts: %v", counts)
	}
}
