package docsapp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/docs"
)

func areaOf(t *testing.T, name string) *docs.Area {
	t.Helper()
	a, ok := docs.ByName(name)
	if !ok {
		t.Fatal(name)
	}
	return a
}

func (f *fixture) audits(t *testing.T, org int64, action string) []db.AuditEntry {
	t.Helper()
	list, err := f.db.AuditList(context.Background(), db.AuditFilter{OrgID: org, Action: action, ActionExact: true})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// One save path: a new document, then an edit at the version seen, then a stale edit that conflicts;
// each stored change has its audit entry. Customers cannot write.
func TestSaveDocumentNewEditConflict(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	if _, err := f.svc.SaveDocument(ctx, f.customer(f.a, "manager"), 0, DocumentInput{Title: "Mine"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("customer save: %v, want forbidden", err)
	}
	var invalid *DocumentInvalidError
	if _, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: " ", Body: "x\x00"}); !errors.As(err, &invalid) ||
		invalid.Fields["title"] != "docs.err.required" || invalid.Fields["body"] != "docs.err.control" {
		t.Fatalf("invalid form: %v %+v", err, invalid)
	}
	id, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: " Router reboot ", Body: "1. unplug\r\n2. wait", Folder: "Net"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Document(ctx, staff, id)
	if err != nil || a.Title != "Router reboot" || a.Body != "1. unplug\n2. wait" || a.Version != 1 {
		t.Fatalf("created: %+v %v", a, err)
	}
	if got, err := f.svc.SaveDocument(ctx, staff, id, DocumentInput{Title: "Router restart", Body: "b", Version: 1, StaffOnly: true}); err != nil || got != id {
		t.Fatalf("edit: %d %v", got, err)
	}
	var conflict *DocumentConflictError
	if _, err := f.svc.SaveDocument(ctx, staff, id, DocumentInput{Title: "Stale", Version: 1}); !errors.As(err, &conflict) ||
		conflict.Current.Version != 2 || conflict.Change.Version != 2 || conflict.Change.Title != "Stale" {
		t.Fatalf("stale edit: %v %+v", err, conflict)
	}
	if _, err := f.svc.Document(ctx, f.customer(f.a, "viewer"), id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("customer reads a staff-only document: %v", err)
	}
	if _, err := f.svc.SaveDocument(ctx, f.staff(f.b), id, DocumentInput{Title: "Other org", Version: 2}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("edit through another organisation: %v", err)
	}
	if n := len(f.audits(t, f.a.ID, "articles.create")); n != 1 {
		t.Errorf("create entries: %d", n)
	}
	if e := f.audits(t, f.a.ID, "articles.update"); len(e) != 1 || !strings.Contains(e[0].Target, ":documents:Router restart") {
		t.Errorf("update entries: %+v", e)
	}
	// Templates: a viewer without an organisation; the staff-only choice does not apply.
	tid, err := f.svc.SaveDocument(ctx, &Viewer{Name: "T", Staff: true}, 0, DocumentInput{Title: "Template", StaffOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := f.audits(t, 0, "templates.create"); len(e) != 1 || e[0].OrgID != 0 {
		t.Errorf("template entries: %+v", e)
	}
	cid, err := f.svc.CopyTemplate(ctx, staff, tid)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := f.svc.Document(ctx, staff, cid); c == nil || !c.StaffOnly || c.Title != "Template" {
		t.Errorf("copy: %+v", c)
	}
}

// Deleting a document hides its links on both sides and from search; restoring within the undo window
// brings them back; after the window it stays deleted.
func TestDocumentLinksDeleteRestore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, cust := f.staff(f.a), f.customer(f.a, "viewer")
	router := f.add(t, f.a.ID, "configurations", "Router", nil, nil, false)
	secret := f.add(t, f.a.ID, "passwords", "Firewall admin", nil, nil, true)
	foreign := f.add(t, f.b.ID, "configurations", "Beta router", nil, nil, false)
	doc, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: "Emergency procedure", Body: "Call the hotline"})
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: "Internal notes", Body: "hotline too", StaffOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ doc, item int64 }{{doc, router}, {doc, secret}, {hidden, router}} {
		if err := f.svc.LinkDocument(ctx, staff, l.doc, l.item, "see also"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.LinkDocument(ctx, staff, doc, router, ""); !errors.Is(err, ErrConflict) {
		t.Errorf("second link: %v", err)
	}
	if err := f.svc.LinkDocument(ctx, staff, doc, foreign, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("link to another organisation's item: %v", err)
	}
	if err := f.svc.LinkDocument(ctx, cust, doc, router, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("customer links: %v", err)
	}
	names := func(ls []db.DocLink, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(f.svc.ItemDocuments(ctx, staff, router)); got != "Emergency procedure,Internal notes" {
		t.Errorf("staff sees on the router: %q", got)
	}
	if got := names(f.svc.ItemDocuments(ctx, cust, router)); got != "Emergency procedure" {
		t.Errorf("customer sees on the router: %q", got)
	}
	if got := names(f.svc.DocumentLinks(ctx, cust, doc)); got != "Router" {
		t.Errorf("customer sees on the document: %q", got)
	}
	hits, err := f.svc.SearchDocuments(ctx, cust, "hotline", false)
	if err != nil || len(hits) != 1 || hits[0].ID != doc {
		t.Errorf("customer search: %+v %v", hits, err)
	}
	if hits, _ := f.svc.SearchDocuments(ctx, staff, "hotline", false); len(hits) != 2 {
		t.Errorf("staff search: %d hits", len(hits))
	}
	if _, err := f.svc.DeleteDocument(ctx, staff, doc); err != nil {
		t.Fatal(err)
	}
	if got := names(f.svc.ItemDocuments(ctx, staff, router)); got != "Internal notes" {
		t.Errorf("after delete: %q", got)
	}
	if hits, _ := f.svc.SearchDocuments(ctx, cust, "hotline", false); len(hits) != 0 {
		t.Errorf("deleted document found: %+v", hits)
	}
	if _, err := f.svc.RestoreDocument(ctx, staff, doc); err != nil {
		t.Fatal(err)
	}
	if got := names(f.svc.ItemDocuments(ctx, staff, router)); got != "Emergency procedure,Internal notes" {
		t.Errorf("after restore: %q", got)
	}
	// Deleting the item hides the link from the document's side.
	if _, err := f.svc.Delete(ctx, staff, areaOf(t, "configurations"), router); err != nil {
		t.Fatal(err)
	}
	if got := names(f.svc.DocumentLinks(ctx, staff, doc)); got != "Firewall admin" {
		t.Errorf("item deleted: %q", got)
	}
	if _, err := f.svc.Restore(ctx, staff, areaOf(t, "configurations"), router); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UnlinkDocument(ctx, staff, doc, router); err != nil {
		t.Fatal(err)
	}
	evs, err := f.svc.ItemDocumentEvents(ctx, staff, router)
	if err != nil || len(evs) != 3 || evs[0].Change != "unlink" || evs[0].OtherName != "Emergency procedure" {
		t.Errorf("router's history: %+v %v", evs, err)
	}
	h, err := f.svc.DocumentHistory(ctx, staff, doc)
	if err != nil || len(h.Links) != 3 || h.Links[0].Change != "unlink" || h.Links[0].OtherName != "Router" {
		t.Errorf("document's history: %+v %v", h, err)
	}
	if e := f.audits(t, f.a.ID, "docs.link"); len(e) != 3 || !strings.Contains(e[0].Target, LinkSep) {
		t.Errorf("link entries: %+v", e)
	}
	// Past the undo window a deleted document stays deleted.
	if _, err := f.svc.DeleteDocument(ctx, staff, doc); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(UndoWindow + time.Minute)
	if _, err := f.svc.RestoreDocument(ctx, staff, doc); !errors.Is(err, ErrNotFound) {
		t.Errorf("late restore: %v", err)
	}
}

// Parallel links of the same pair: exactly one is stored, with one audit entry and one history event.
func TestLinkDocumentParallel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	item := f.add(t, f.a.ID, "configurations", "Switch", nil, nil, false)
	doc, err := f.svc.SaveDocument(ctx, staff, 0, DocumentInput{Title: "Switch manual"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 8 {
		wg.Go(func() {
			err := f.svc.LinkDocument(ctx, staff, doc, item, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 7 {
		t.Errorf("ok %d, conflicts %d", ok, conflicts)
	}
	if n := len(f.audits(t, f.a.ID, "docs.link")); n != 1 {
		t.Errorf("audit entries: %d", n)
	}
}
