package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// Documents keep to their organisation (templates, org 0, to none), hide staff-only ones from customers
// and deleted ones from everyone, and list by folder then title regardless of case.
func TestArticlesScopeAndOrder(t *testing.T) {
	d, _, a, b := docsFixture(t)
	ctx := context.Background()
	by := DocActor{Name: "Toni"}
	mk := func(org int64, ch ArticleChange) int64 {
		t.Helper()
		id, err := d.ArticleCreate(ctx, org, ch, by, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	mk(a.ID, ArticleChange{Folder: "notfall", Title: "Strom weg", Emergency: true})
	mk(a.ID, ArticleChange{Folder: "Netz", Title: "b-VPN"})
	mk(a.ID, ArticleChange{Folder: "Netz", Title: "A-Firewall"})
	hidden := mk(a.ID, ArticleChange{Folder: "Intern", Title: "Admin-Notizen", StaffOnly: true})
	gone := mk(a.ID, ArticleChange{Title: "Alt"})
	foreign := mk(b.ID, ArticleChange{Title: "Beta-Handbuch"})
	tmpl := mk(0, ArticleChange{Title: "Vorlage"})
	if err := d.ArticleDelete(ctx, ArticleScope{OrgID: a.ID, StaffView: true}, gone, nil); err != nil {
		t.Fatal(err)
	}
	titles := func(sc ArticleScope, emergency bool) string {
		t.Helper()
		l, err := d.Articles(ctx, sc, emergency)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range l {
			out = append(out, x.Title)
		}
		return fmt.Sprint(out)
	}
	if got := titles(ArticleScope{OrgID: a.ID, StaffView: true}, false); got != "[Admin-Notizen A-Firewall b-VPN Strom weg]" {
		t.Fatalf("staff list %s", got)
	}
	if got := titles(ArticleScope{OrgID: a.ID}, false); got != "[A-Firewall b-VPN Strom weg]" {
		t.Fatalf("customer list %s", got)
	}
	if got := titles(ArticleScope{OrgID: a.ID}, true); got != "[Strom weg]" {
		t.Fatalf("emergencies %s", got)
	}
	if got := titles(ArticleScope{StaffView: true}, false); got != "[Vorlage]" {
		t.Fatalf("templates %s", got)
	}
	if f, _ := d.ArticleFolders(ctx, ArticleScope{OrgID: a.ID}); fmt.Sprint(f) != "[Netz notfall]" {
		t.Fatalf("customer folders %v", f)
	}
	for name, c := range map[string]struct {
		sc ArticleScope
		id int64
	}{
		"staff-only for a customer":     {ArticleScope{OrgID: a.ID}, hidden},
		"deleted":                       {ArticleScope{OrgID: a.ID, StaffView: true}, gone},
		"another organisation's":        {ArticleScope{OrgID: a.ID, StaffView: true}, foreign},
		"a template inside an org":      {ArticleScope{OrgID: a.ID, StaffView: true}, tmpl},
		"an org's document as template": {ArticleScope{StaffView: true}, foreign},
	} {
		if _, err := d.Article(ctx, c.sc, c.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := d.ArticleRevisions(ctx, c.sc, c.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: history %v", name, err)
		}
	}
	if err := d.ArticleDelete(ctx, ArticleScope{OrgID: a.ID, StaffView: true}, foreign, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted another organisation's document: %v", err)
	}
	if err := d.ArticleUpdate(ctx, ArticleScope{OrgID: a.ID, StaffView: true}, foreign, ArticleChange{Title: "x", Version: 1}, by, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("changed another organisation's document: %v", err)
	}
}

// Of parallel edits from the same version one is saved and the others are told the document changed;
// each saved version is in the history, and a change whose hook fails leaves nothing behind.
func TestArticleEditsConflictAndKeepHistory(t *testing.T) {
	d, _, a, _ := docsFixture(t)
	ctx := context.Background()
	sc := ArticleScope{OrgID: a.ID, StaffView: true}
	id, err := d.ArticleCreate(ctx, a.ID, ArticleChange{Title: "Router", Body: "v1"}, DocActor{Name: "Toni"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var conflicts atomic.Int32
	won := race(t, 5, func(i int) (bool, error) {
		err := d.ArticleUpdate(ctx, sc, id, ArticleChange{Title: "Router", Body: fmt.Sprint("edit ", i), Version: 1}, DocActor{Name: fmt.Sprint("Tech ", i)}, nil)
		if errors.Is(err, ErrConflict) {
			conflicts.Add(1)
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 || conflicts.Load() != 4 {
		t.Fatalf("%d saved, %d conflicts", won, conflicts.Load())
	}
	failed := errors.New("audit failed")
	if err := d.ArticleUpdate(ctx, sc, id, ArticleChange{Title: "Router", Body: "lost", Version: 2}, DocActor{Name: "Toni"}, func(*sql.Tx) error { return failed }); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	art, _ := d.Article(ctx, sc, id)
	revs, _ := d.ArticleRevisions(ctx, sc, id)
	if art.Version != 2 || art.Body == "lost" || len(revs) != 2 || revs[0].Version != 2 || revs[1].Body != "v1" || revs[0].Body != art.Body || revs[0].By != art.UpdatedBy {
		t.Fatalf("article v%d %q, history %+v", art.Version, art.Body, revs)
	}
}
