package db

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestLinksBothWaysScopedAndSoftDeleted(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	mk := func(org int64, area, name string, staffOnly bool) int64 {
		id, err := d.DocCreate(ctx, s, DocChange{OrgID: org, Area: area, Name: name, StaffOnly: staffOnly}, DocActor{Name: "T"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	router := mk(a.ID, "configurations", "Router", false)
	admin := mk(a.ID, "passwords", "Router admin", false)
	hidden := mk(a.ID, "passwords", "Root", true)
	other := mk(b.ID, "contacts", "Fremd", false)
	staff := DocScope{OrgID: a.ID, StaffView: true}
	cust := DocScope{OrgID: a.ID}
	by := DocActor{Name: "Toni"}
	if err := d.DocLinkAdd(ctx, staff, admin, router, "Admin-Zugang", by, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocLinkAdd(ctx, staff, router, admin, "", by, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("second link of the same pair: %v", err)
	}
	if err := d.DocLinkAdd(ctx, staff, router, hidden, "", by, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocLinkAdd(ctx, staff, router, other, "", by, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to another organisation: %v", err)
	}
	if err := d.DocLinkAdd(ctx, cust, router, admin, "", by, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("customer scope sees both: %v", err)
	}
	if err := d.DocLinkAdd(ctx, staff, router, router, "", by, nil); !errors.Is(err, ErrSameItem) {
		t.Fatalf("self link: %v", err)
	}
	names := func(sc DocScope, id int64) []string {
		ls, err := d.DocLinks(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.Name+"|"+l.Label)
		}
		return out
	}
	if got := names(staff, router); len(got) != 2 || got[0] != "Root|" || got[1] != "Router admin|Admin-Zugang" {
		t.Fatalf("staff sees %v", got)
	}
	if got := names(staff, admin); len(got) != 1 || got[0] != "Router|Admin-Zugang" {
		t.Fatalf("other side sees %v", got)
	}
	if got := names(cust, router); len(got) != 1 || got[0] != "Router admin|Admin-Zugang" {
		t.Fatalf("customer sees %v", got)
	}
	if got := names(cust, hidden); len(got) != 0 {
		t.Fatalf("customer sees the links of a staff-only item: %v", got)
	}
	if got := names(DocScope{OrgID: b.ID, StaffView: true}, router); len(got) != 0 {
		t.Fatalf("another organisation's scope reads the links: %v", got)
	}
	// Deleting hides the links on the other side; restoring brings them back.
	if err := d.DocSetDeleted(ctx, s, a.ID, admin, true, by, nil); err != nil {
		t.Fatal(err)
	}
	if got := names(staff, router); len(got) != 1 || got[0] != "Root|" {
		t.Fatalf("after delete: %v", got)
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, admin, false, by, nil); err != nil {
		t.Fatal(err)
	}
	if got := names(staff, router); len(got) != 2 {
		t.Fatalf("after restore: %v", got)
	}
	if err := d.DocLinkRemove(ctx, staff, router, hidden, by, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocLinkRemove(ctx, staff, router, hidden, by, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	evs, err := d.DocLinkEvents(ctx, staff, hidden)
	if err != nil || len(evs) != 2 || evs[0].Change != "unlink" || evs[1].Change != "link" || evs[0].OtherName != "Router" {
		t.Fatalf("history of the link: %+v %v", evs, err)
	}
}
