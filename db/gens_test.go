package db

import (
	"context"
	"testing"
)

// The terms stay in memory only until a new version is published.
func TestCurrentTermsFollowsPublish(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	t1, err := d.CurrentTerms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t1.TextEN = "changed by the caller"
	again, _ := d.CurrentTerms(ctx)
	if again.TextEN == "changed by the caller" {
		t.Fatal("callers share the cached terms")
	}
	v, err := d.PublishTerms(ctx, "Neu", "New", 0)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := d.CurrentTerms(ctx)
	if err != nil || t2.Version != v || v != t1.Version+1 || t2.TextEN != "New" {
		t.Fatalf("after publishing %d: %+v %v", v, t2, err)
	}
}

// Every documentation write bumps its own organisation's generation, after it committed; a failed write
// bumps too (a cache reloads once for nothing, never keeps something stale).
func TestDocsGenFollowsEveryWrite(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	last := d.DocsGen(a.ID)
	bumped := func(what string) {
		t.Helper()
		if g := d.DocsGen(a.ID); g == last {
			t.Fatalf("%s: generation still %d", what, g)
		} else {
			last = g
		}
	}
	id, err := d.DocCreate(ctx, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"}, DocActor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bumped("create")
	if err := d.DocUpdate(ctx, s, id, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna B", Version: 1}, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	bumped("update")
	if err := d.DocSetDeleted(ctx, s, a.ID, id, true, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	bumped("delete")
	if err := d.DocSetDeleted(ctx, s, a.ID, id, false, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	bumped("restore")
	if err := d.DocCreateMany(ctx, s, []DocChange{{OrgID: a.ID, Area: "contacts", Name: "Bernd"}}, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	bumped("import")
	if g := d.DocsGen(b.ID); g != 0 {
		t.Fatalf("another organisation's generation moved to %d", g)
	}
}
