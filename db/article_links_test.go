package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// A document's file is stored like an item's (sealed chunks, read back identical), in tables of its own:
// its chunks do not open as an item file's chunks of the same id, and a document of another organisation
// takes no file through this organisation's scope.
func TestArticleFilesRoundTripAndKeptApart(t *testing.T) {
	d, s, sc, item := attachFixture(t)
	ctx := context.Background()
	other, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	art, err := d.ArticleCreate(ctx, sc.OrgID, ArticleChange{Title: "Notfallplan"}, DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := d.ArticleCreate(ctx, other.ID, ArticleChange{Title: "Beta"}, DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func([]byte) (string, error) { return "text/plain; charset=utf-8", nil }
	content := make([]byte, 2*AttachmentChunk+5)
	rand.Read(content)
	a, err := d.AttachmentCreate(ctx, s, sc, AttachmentUpload{ItemID: art, OnArticle: true, Name: "f.txt", Max: 1 << 30, Check: check},
		bytes.NewReader(content), DocActor{Name: "T"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.FileGet(ctx, sc, OnArticle(art), a.ID)
	if err != nil || !got.OnArticle {
		t.Fatalf("get: %+v %v", got, err)
	}
	var out bytes.Buffer
	if err := d.AttachmentWrite(ctx, s, got, &out); err != nil || !bytes.Equal(out.Bytes(), content) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(out.Bytes(), content))
	}
	if _, err := d.FileGet(ctx, sc, OnItem(art), a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the document's file found as an item's: %v", err)
	}
	// The same chunks under an item file with the same id do not open.
	it := upload(t, d, s, sc, item, []byte("x"))
	if _, err := d.W.Exec(`DELETE FROM doc_attachment_chunks WHERE attachment_id = ?`, it.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`INSERT INTO doc_attachment_chunks(attachment_id, n, sealed) SELECT ?, n, sealed FROM article_attachment_chunks WHERE attachment_id = ?`,
		it.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if a.ID != it.ID {
		t.Fatalf("the first file of each kind should share id 1: %d, %d", a.ID, it.ID)
	}
	it.Size = a.Size
	if err := d.AttachmentWrite(ctx, s, it, &bytes.Buffer{}); !errors.Is(err, ErrSealBroken) {
		t.Errorf("moved chunks opened: %v", err)
	}
	if _, err := d.AttachmentCreate(ctx, s, sc, AttachmentUpload{ItemID: foreign, OnArticle: true, Name: "f.txt", Max: 1 << 30, Check: check},
		bytes.NewReader(content), DocActor{Name: "T"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("file on another organisation's document: %v", err)
	}
	if err := d.ArticleLinkAdd(ctx, DocScope{OrgID: other.ID, StaffView: true}, foreign, item, "", DocActor{Name: "T"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("link across organisations: %v", err)
	}
}

// Document links keep their two sides apart even where a document and an item share an id (each has
// its own sequence), and are scoped like item links: another organisation's or a staff-only side is
// missing, a deleted item's links are hidden, and both histories name the other side.
func TestArticleLinksScopedBothWaysSameIDs(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	by := DocActor{Name: "Toni"}
	item := func(org int64, name string, staffOnly bool) int64 {
		id, err := d.DocCreate(ctx, s, DocChange{OrgID: org, Area: "configurations", Name: name, StaffOnly: staffOnly}, by, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	doc := func(org int64, title string, staffOnly bool) int64 {
		id, err := d.ArticleCreate(ctx, org, ArticleChange{Title: title, StaffOnly: staffOnly}, by, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	router, switch_, root, foreign := item(a.ID, "Router", false), item(a.ID, "Switch", false), item(a.ID, "Root", true), item(b.ID, "Fremd", false)
	plan, secret := doc(a.ID, "Notfallplan", false), doc(a.ID, "Intern", true)
	if plan != router {
		t.Fatalf("the first document and the first item should share id 1: %d, %d", plan, router)
	}
	staff, cust := DocScope{OrgID: a.ID, StaffView: true}, DocScope{OrgID: a.ID}
	var changes []ArticleLinkChange
	hook := func(_ *sql.Tx, ch ArticleLinkChange) error { changes = append(changes, ch); return nil }
	for _, l := range []struct {
		doc, item int64
		label     string
	}{{plan, router, "Zugang"}, {plan, switch_, ""}, {plan, root, "geheim"}, {secret, router, ""}} {
		if err := d.ArticleLinkAdd(ctx, staff, l.doc, l.item, l.label, by, hook); err != nil {
			t.Fatal(err)
		}
	}
	if ch := changes[2]; ch.ArticleID != plan || ch.ArticleTitle != "Notfallplan" || ch.ItemID != root || ch.ItemArea != "configurations" ||
		ch.ItemName != "Root" || ch.Label != "geheim" || !ch.StaffOnly {
		t.Fatalf("hook got %+v", ch)
	}
	if err := d.ArticleLinkAdd(ctx, cust, plan, router, "", by, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("second link of the same pair: %v", err)
	}
	for name, err := range map[string]error{
		"item of another organisation":     d.ArticleLinkAdd(ctx, staff, plan, foreign, "", by, nil),
		"document through another scope":   d.ArticleLinkAdd(ctx, DocScope{OrgID: b.ID, StaffView: true}, plan, foreign, "", by, nil),
		"staff-only item for a customer":   d.ArticleLinkAdd(ctx, cust, plan, root, "", by, nil),
		"staff-only document for customer": d.ArticleLinkRemove(ctx, cust, secret, router, by, nil),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
	names := func(ls []DocLink, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.Area+"/"+l.Name+"|"+l.Label)
		}
		return out
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	check("staff: items of the plan", names(d.ArticleLinkedItems(ctx, staff, plan)),
		"configurations/Root|geheim", "configurations/Router|Zugang", "configurations/Switch|")
	check("customer: items of the plan", names(d.ArticleLinkedItems(ctx, cust, plan)),
		"configurations/Router|Zugang", "configurations/Switch|")
	check("customer: items of the staff-only document", names(d.ArticleLinkedItems(ctx, cust, secret)))
	check("staff: documents of the router", names(d.ItemLinkedArticles(ctx, staff, router)),
		ArticleArea+"/Intern|", ArticleArea+"/Notfallplan|Zugang")
	check("customer: documents of the router", names(d.ItemLinkedArticles(ctx, cust, router)), ArticleArea+"/Notfallplan|Zugang")
	check("customer: documents of a staff-only item", names(d.ItemLinkedArticles(ctx, cust, root)))
	check("another organisation", names(d.ItemLinkedArticles(ctx, DocScope{OrgID: b.ID, StaffView: true}, router)))
	if err := d.DocSetDeleted(ctx, s, a.ID, switch_, true, by, nil); err != nil {
		t.Fatal(err)
	}
	check("after deleting the switch", names(d.ArticleLinkedItems(ctx, staff, plan)), "configurations/Root|geheim", "configurations/Router|Zugang")
	check("documents of a deleted item", names(d.ItemLinkedArticles(ctx, staff, switch_)))

	if err := d.ArticleLinkRemove(ctx, staff, plan, router, by, hook); err != nil {
		t.Fatal(err)
	}
	if ch := changes[len(changes)-1]; ch.Label != "Zugang" || ch.ArticleTitle != "Notfallplan" || ch.ItemName != "Router" || ch.StaffOnly {
		t.Fatalf("remove hook got %+v", ch)
	}
	if err := d.ArticleLinkRemove(ctx, staff, plan, router, by, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	history := func(evs []DocLinkEvent, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, fmt.Sprintf("%s %d %s|%s by %s", ev.Change, ev.OtherID, ev.OtherName, ev.Label, ev.By))
		}
		return out
	}
	// Same id on both sides: the plan's history names the router, the router's names the plan.
	check("history of the plan", history(d.ArticleLinkEvents(ctx, staff, plan))[:2],
		fmt.Sprintf("unlink %d Router|Zugang by Toni", router), fmt.Sprintf("link %d Root|geheim by Toni", root))
	check("history of the router", history(d.ItemArticleLinkEvents(ctx, staff, router)),
		fmt.Sprintf("unlink %d Notfallplan|Zugang by Toni", plan), fmt.Sprintf("link %d Intern| by Toni", secret),
		fmt.Sprintf("link %d Notfallplan|Zugang by Toni", plan))
	check("history through another organisation", history(d.ItemArticleLinkEvents(ctx, DocScope{OrgID: b.ID, StaffView: true}, router)))
	check("item links stay apart", names(d.DocLinks(ctx, staff, router)))

	cands, err := d.ItemArticleCandidates(ctx, staff, root, "Notfallplan", 10)
	if err != nil || len(cands) != 0 {
		t.Fatalf("documents to link to root: %+v %v", cands, err)
	}
	cands, err = d.ItemArticleCandidates(ctx, staff, router, "Notfallplan", 10)
	if err != nil || len(cands) != 1 || cands[0].ID != plan {
		t.Fatalf("documents to link to the router after unlinking: %+v %v", cands, err)
	}
	items, err := d.ArticleLinkCandidates(ctx, staff, plan, "Router", 10)
	if err != nil || len(items) != 1 || items[0].ID != router {
		t.Fatalf("items to link to the plan: %+v %v", items, err)
	}
}
