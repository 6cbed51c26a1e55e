package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// A bulk deletion is all or nothing: one item of another organisation among the chosen ones leaves every
// item in place; otherwise each is deleted and can be restored.
func TestBulkDeleteAllOrNothing(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	staff := DocScope{OrgID: a.ID, StaffView: true}
	x := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"})
	y := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "NAS", Secrets: map[string]string{"password": "p"}})
	foreign := mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "contacts", Name: "Bernd"})
	if _, err := d.DocBulkDelete(ctx, s, a.ID, []int64{x, foreign, y}, true, DocActor{Name: "Toni"}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bulk with a foreign item: %v", err)
	}
	if _, err := d.DocGet(ctx, staff, "contacts", x); err != nil {
		t.Fatal("an item was deleted although the bulk was refused")
	}
	failed := errors.New("audit failed")
	if _, err := d.DocBulkDelete(ctx, s, a.ID, []int64{x, y}, true, DocActor{Name: "Toni"}, func(*sql.Tx, []BulkItem) error { return failed }); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if _, err := d.DocGet(ctx, staff, "contacts", x); err != nil {
		t.Fatal("a failed hook left an item deleted")
	}
	done, err := d.DocBulkDelete(ctx, s, a.ID, []int64{x, y}, true, DocActor{Name: "Toni"}, nil)
	if err != nil || len(done) != 2 || done[1].Area != "passwords" || done[1].Name != "NAS" {
		t.Fatalf("bulk delete %+v %v", done, err)
	}
	if _, err := d.DocGet(ctx, staff, "passwords", y); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted item still listed")
	}
	if _, err := d.DocBulkDelete(ctx, s, a.ID, []int64{x, y}, false, DocActor{Name: "Toni"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DocGet(ctx, staff, "passwords", y); err != nil {
		t.Fatal("restored item missing")
	}
}

// Marking items staff-only changes only those not yet marked, one new version each, also when two staff
// members mark the same items at once; a deleted or foreign item refuses the whole bulk.
func TestBulkStaffOnlyOnceEach(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	staff := DocScope{OrgID: a.ID, StaffView: true}
	var ids []int64
	for i := 0; i < 4; i++ {
		ids = append(ids, mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: fmt.Sprint("P", i), StaffOnly: i == 0}))
	}
	var mu sync.Mutex
	changed := map[int64]int{}
	race(t, 2, func(int) (bool, error) {
		done, err := d.DocBulkStaffOnly(ctx, s, a.ID, ids, true, DocActor{Name: "Toni"}, nil)
		mu.Lock()
		for _, it := range done {
			changed[it.ID]++
		}
		mu.Unlock()
		return err == nil, err
	})
	if len(changed) != 3 || changed[ids[0]] != 0 {
		t.Fatalf("changed %v, want each of the three unmarked items once", changed)
	}
	for i, id := range ids {
		it, _ := d.DocGet(ctx, staff, "contacts", id)
		want := 2
		if i == 0 {
			want = 1
		}
		if !it.StaffOnly || it.Version != want {
			t.Fatalf("item %d: staff-only %v, version %d (want %d)", i, it.StaffOnly, it.Version, want)
		}
	}
	if _, err := d.DocGet(ctx, DocScope{OrgID: a.ID}, "contacts", ids[1]); !errors.Is(err, ErrNotFound) {
		t.Fatal("a customer still sees a staff-only item")
	}
	foreign := mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "contacts", Name: "Bernd"})
	if _, err := d.DocBulkStaffOnly(ctx, s, a.ID, []int64{ids[1], foreign}, false, DocActor{Name: "Toni"}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bulk with a foreign item: %v", err)
	}
	if it, _ := d.DocGet(ctx, staff, "contacts", ids[1]); !it.StaffOnly {
		t.Fatal("a refused bulk changed an item")
	}
}

// A bulk link makes its links as single links do (history, hook), skipping pairs linked already and the
// other item itself, and moves the organisation's generation on once. One item that is not the scope's
// live item (deleted, another organisation's) or a failing hook leaves no link, history entry or hook
// call of the request behind.
func TestDocBulkLinkAllOrNothing(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	staff := DocScope{OrgID: a.ID, StaffView: true}
	by := DocActor{Name: "Toni"}
	other := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"})
	var ids []int64
	for i := range 3 {
		ids = append(ids, mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: fmt.Sprint("SRV-", i)}))
	}
	gone := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Old"})
	if err := d.DocSetDeleted(ctx, s, a.ID, gone, true, by, nil); err != nil {
		t.Fatal(err)
	}
	foreign := mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "configurations", Name: "Fremd"})
	counts := func() (links, events int) {
		t.Helper()
		if err := d.R.QueryRow(`SELECT (SELECT count(*) FROM doc_links), (SELECT count(*) FROM doc_link_events)`).Scan(&links, &events); err != nil {
			t.Fatal(err)
		}
		return links, events
	}
	if err := d.DocLinkAdd(ctx, staff, ids[0], other, "uplink", by, nil); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("audit failed")
	for _, bad := range []struct {
		ids   []int64
		other int64
		hook  func(*sql.Tx, DocLinkChange) error
		want  error
	}{
		{slices.Concat(ids, []int64{gone}), other, nil, ErrNotFound},
		{slices.Concat(ids, []int64{foreign}), other, nil, ErrNotFound},
		{ids, foreign, nil, ErrNotFound},
		{ids, other, func(_ *sql.Tx, ch DocLinkChange) error {
			if ch.AID == ids[2] || ch.BID == ids[2] {
				return failed
			}
			return nil
		}, failed},
	} {
		if n, err := d.DocBulkLink(ctx, staff, bad.ids, bad.other, "", by, bad.hook); !errors.Is(err, bad.want) || n != 0 {
			t.Fatalf("bulk link %v to %d: %d, %v; want %v", bad.ids, bad.other, n, err, bad.want)
		}
		if links, events := counts(); links != 1 || events != 1 {
			t.Fatalf("a refused bulk link left %d links, %d history entries", links-1, events-1)
		}
	}
	gen := d.DocsGen(a.ID)
	var hooked []DocLinkChange
	n, err := d.DocBulkLink(ctx, staff, slices.Concat(ids, []int64{other}), other, "Betreut von", by, func(_ *sql.Tx, ch DocLinkChange) error {
		hooked = append(hooked, ch)
		return nil
	})
	if err != nil || n != 2 || len(hooked) != 2 || hooked[0].Label != "Betreut von" || hooked[1].AName != "Anna" && hooked[1].BName != "Anna" {
		t.Fatalf("bulk link: %d %v, hook saw %+v", n, err, hooked)
	}
	if links, events := counts(); links != 3 || events != 3 {
		t.Fatalf("%d links, %d history entries; want 3 each", links, events)
	}
	if g := d.DocsGen(a.ID); g != gen+1 {
		t.Fatalf("the generation moved by %d, want once", g-gen)
	}
}
