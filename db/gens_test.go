package db

import (
	"context"
	"testing"
	"time"
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

// TestEveryWriteAnItemPageShowsBumpsItsGeneration: an item's page shows its fields, its links to items
// and documents (their names, whether staff-only) and its files (previews, staff-only): each write of
// these moves the organisation's generation on, and no other organisation's, so that a cached page of
// the item (docsapp's detail fragments) is not served after it.
func TestEveryWriteAnItemPageShowsBumpsItsGeneration(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	staff := DocScope{OrgID: a.ID, StaffView: true}
	by := DocActor{Name: "Tech"}
	router := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Router"})
	pass := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "Admin"})
	art, err := d.ArticleCreate(ctx, a.ID, ArticleChange{Title: "Notfall"}, by, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := upload(t, d, s, staff, router, []byte("cfg"))
	artScope := ArticleScope{OrgID: a.ID, StaffView: true}
	writes := []struct {
		name  string
		write func() error
	}{
		{"DocUpdate", func() error {
			it, err := d.DocGet(ctx, staff, "configurations", router)
			if err != nil {
				return err
			}
			return d.DocUpdate(ctx, s, router, DocChange{OrgID: a.ID, Area: "configurations", Name: "Router 2", Version: it.Version}, by, nil)
		}},
		{"DocLinkAdd", func() error { return d.DocLinkAdd(ctx, staff, router, pass, "", by, nil) }},
		{"DocLinkRemove", func() error { return d.DocLinkRemove(ctx, staff, router, pass, by, nil) }},
		{"DocBulkLink", func() error { _, err := d.DocBulkLink(ctx, staff, []int64{router}, pass, "", by, nil); return err }},
		{"ArticleLinkAdd", func() error { return d.ArticleLinkAdd(ctx, staff, art, router, "", by, nil) }},
		{"ArticleUpdate", func() error {
			ar, err := d.Article(ctx, artScope, art)
			if err != nil {
				return err
			}
			return d.ArticleUpdate(ctx, artScope, art, ArticleChange{Title: "Notfallplan", StaffOnly: true, Version: ar.Version}, by, nil)
		}},
		{"ArticleDelete", func() error { return d.ArticleDelete(ctx, artScope, art, nil) }},
		{"ArticleRestore", func() error { _, err := d.ArticleRestore(ctx, artScope, art, time.Time{}, nil); return err }},
		{"ArticleLinkRemove", func() error { return d.ArticleLinkRemove(ctx, staff, art, router, by, nil) }},
		{"FileSetThumb", func() error { return d.FileSetThumb(ctx, s, file, []byte("png")) }},
		{"FileSetStaffOnly", func() error { return d.FileSetStaffOnly(ctx, staff, OnItem(router), file.ID, true, nil) }},
		{"FileDelete", func() error { return d.FileDelete(ctx, staff, OnItem(router), file.ID, nil) }},
		{"AttachmentFinish", func() error { upload(t, d, s, staff, router, []byte("more")); return nil }},
		{"DocSetDeleted", func() error { return d.DocSetDeleted(ctx, s, a.ID, pass, true, by, nil) }},
	}
	for _, w := range writes {
		ga, gb := d.DocsGen(a.ID), d.DocsGen(b.ID)
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if d.DocsGen(a.ID) == ga {
			t.Errorf("%s: the organisation's generation stayed %d", w.name, ga)
		}
		if d.DocsGen(b.ID) != gb {
			t.Errorf("%s: another organisation's generation moved", w.name)
		}
	}
}
