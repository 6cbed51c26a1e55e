package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// gateReader gives its first part, then waits for open before giving the rest: an upload that is still
// arriving while something else happens to its item or document.
type gateReader struct {
	head, rest io.Reader
	open       chan struct{}
	waited     bool
}

func (g *gateReader) Read(p []byte) (int, error) {
	if n, err := g.head.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	if !g.waited {
		<-g.open
		g.waited = true
	}
	return g.rest.Read(p)
}

// slowUpload starts an upload whose body stops after its first chunk until release is called; it
// returns once the server stored that chunk (the file exists, unfinished), and done gives the status.
func slowUpload(t *testing.T, e *testEnv, owner, table, name string, content []byte) (release func(), done <-chan int) {
	t.Helper()
	g := &gateReader{head: bytes.NewReader(content[:db.AttachmentChunk+100]), rest: bytes.NewReader(content[db.AttachmentChunk+100:]),
		open: make(chan struct{})}
	body, ct := uploadBody(name, g, false)
	req, err := http.NewRequest(http.MethodPost, e.URL(owner+"/attachments"), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	status := make(chan int, 1)
	go func() {
		resp, err := e.client.Do(req)
		if err != nil {
			status <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	for i := 0; countRows(t, e, `SELECT count(*) FROM `+table+` WHERE complete = 0`) == 0; i++ {
		if i > 500 {
			t.Fatal("the upload never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() { close(g.open) }, status
}

// A document (or item) made staff-only while a file is still being uploaded to it: the upload's audit
// line names the file and the owner, so it is staff-only too — a customer's access log does not learn
// what was attached to something they can no longer see. Before, the line took the owner's state from
// the start of the upload.
func TestUploadFinishingAfterTheOwnerBecameStaffOnly(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	proc := createArticle(t, e, url.Values{"title": {"Personalakte"}, "body": {"x"}})
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("Abmahnung "), 20000)...)
	release, done := slowUpload(t, e, proc, "article_attachments", "Abmahnung Mueller.pdf", pdf)
	// Meanwhile another technician hides the document.
	if err := e.db.ArticleUpdate(context.Background(), db.ArticleScope{OrgID: f.a.ID, StaffView: true}, docID(t, proc),
		db.ArticleChange{Title: "Personalakte", Body: "x", StaffOnly: true, Version: 1}, db.DocActor{Name: "Tina"}, nil); err != nil {
		t.Fatal(err)
	}
	release()
	if st := <-done; st != 303 {
		t.Fatalf("upload: %d", st)
	}
	if got := auditOf(t, e, f.a.ID, f.tech.ID, "docs.attach"); len(got) != 1 || !got[0].StaffOnly {
		t.Fatalf("attach audit: %+v", got)
	}
	f.as(f.mgr)
	if _, body := e.get("/o/alpha/audit", nil); strings.Contains(body, "Abmahnung") {
		t.Fatal("the customer's access log names the file on the now staff-only document")
	}

	// An item deleted while its file arrives gets no file (it would come back with an undo nobody meant).
	f.as(f.tech)
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	release, done = slowUpload(t, e, fw, "doc_attachments", "late.pdf", pdf)
	if resp, _ := e.post(fw+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete item: %d", resp.StatusCode)
	}
	release()
	if st := <-done; st != 404 {
		t.Fatalf("upload onto a deleted item: %d", st)
	}
	if n := countRows(t, e, `SELECT count(*) FROM doc_attachments WHERE name = 'late.pdf'`); n != 0 {
		t.Fatalf("file stored on the deleted item: %d", n)
	}
}

// A document and an item linked from both sides at once, the link removed and the document restored at
// once: each happens once — one link, one entry in the access log and the histories, one restore.
func TestParallelDocumentLinkUnlinkAndRestore(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	proc := createArticle(t, e, url.Values{"title": {"Notfallplan"}, "body": {"x"}})
	d := fmt.Sprintf("d%d", docID(t, proc))
	as := e.fire(16, func(i int) (answer, error) {
		if i%2 == 0 {
			return e.postAs(e.client, proc+"/links", url.Values{"other": {fmt.Sprint(f.items["configurations"])}})
		}
		return e.postAs(e.client, fw+"/links", url.Values{"other": {d}})
	})
	if countStatus(as, 303) != 1 || countStatus(as, 409) != 15 {
		t.Fatalf("link answers %v", as)
	}
	if n := countRows(t, e, `SELECT count(*) FROM article_links`); n != 1 || len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.link")) != 1 ||
		countRows(t, e, `SELECT count(*) FROM article_link_events`) != 1 {
		t.Fatalf("%d links, %d audit entries", n, len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.link")))
	}
	as = e.fire(16, func(i int) (answer, error) {
		if i%2 == 0 {
			return e.postAs(e.client, proc+"/links/"+fmt.Sprint(f.items["configurations"])+"/delete", nil)
		}
		return e.postAs(e.client, fw+"/links/"+d+"/delete", nil)
	})
	if countStatus(as, 303) != 1 || countStatus(as, 404) != 15 {
		t.Fatalf("unlink answers %v", as)
	}
	if n := countRows(t, e, `SELECT count(*) FROM article_link_events WHERE change = 'unlink'`); n != 1 || len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.unlink")) != 1 {
		t.Fatalf("%d unlink events", n)
	}
	if resp, _ := e.post(proc+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	as = e.fire(16, func(int) (answer, error) { return e.postAs(e.client, proc+"/restore", nil) })
	if countStatus(as, 303) != 1 || countStatus(as, 404) != 15 {
		t.Fatalf("restore answers %v", as)
	}
	if n := len(auditOf(t, e, f.a.ID, f.tech.ID, "articles.restore")); n != 1 {
		t.Fatalf("%d restore entries", n)
	}
}

// Item files and document files are counted apart, so the same number names a file of each: the item's
// route opens only the item's file and the document's route only the document's, whatever the number;
// one that is only the other kind's answers 404.
func TestFileNumbersNeverCrossBetweenItemsAndDocuments(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	proc := createArticle(t, e, url.Values{"title": {"Notfallplan"}, "body": {"x"}})
	up := func(owner, name, content string) {
		if resp, _ := e.upload(owner, name, []byte(content), false); resp.StatusCode != 303 {
			t.Fatalf("upload %s: %d", name, resp.StatusCode)
		}
	}
	up(proc, "doc1.txt", "document file one\n")
	up(fw, "item1.txt", "item file one\n")
	up(proc, "doc2.txt", "document file two\n")
	for _, u := range []*db.User{f.tech, f.viewer} {
		f.as(u)
		for path, want := range map[string]string{
			fw + "/attachments/1": "item file one\n", proc + "/attachments/1": "document file one\n",
			proc + "/attachments/2": "document file two\n", fw + "/attachments/2": "",
			fw + "/attachments/2/view": "", fw + "/attachments/2/thumb": "",
		} {
			resp, body := e.get(path, nil)
			if want == "" && resp.StatusCode != 404 || want != "" && (resp.StatusCode != 200 || body != want) {
				t.Errorf("%s GET %s: %d %q", u.Email, path, resp.StatusCode, body)
			}
		}
	}
}

// What a customer types into the search box is words, never FTS5 syntax: column filters ("org:",
// "title:"), NEAR, OR, quotes, brackets and stars neither fail the page nor reach another organisation's,
// a staff-only or a template document.
func TestDocumentSearchTakesNoQuerySyntax(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	createArticle(t, e, url.Values{"title": {"Alpha Drucker"}, "body": {"Toner wechseln"}})
	createArticle(t, e, url.Values{"title": {"Alpha Intern Drucker"}, "body": {"Toner Lieferant Rabatt"}, "staff_only": {"1"}})
	if resp, _ := e.post("/o/beta/articles", url.Values{"title": {"Beta Drucker"}, "body": {"Toner Beta"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("beta document: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/staff/templates", url.Values{"title": {"Vorlage Drucker"}, "body": {"Toner Vorlage"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("template: %d", resp.StatusCode)
	}
	f.as(f.viewer)
	orgB := fmt.Sprintf("o%d", f.b.ID)
	for _, q := range []string{"toner", "org:" + orgB + " toner", "org:" + orgB, "title:drucker", "{title body org}: toner", `toner" OR "beta`,
		"toner OR beta", "NEAR(toner beta)", "toner*", "^toner", "-toner", `"`, "(", "toner) OR (org:" + orgB, "rabatt", "vorlage", "beta"} {
		resp, body := e.get("/o/alpha/search?q="+url.QueryEscape(q), nil)
		if resp.StatusCode != 200 {
			t.Errorf("q=%q: %d", q, resp.StatusCode)
			continue
		}
		res := doc(t, body).Find(`[data-testid="search-results"]`).Text()
		if q == "toner" && !strings.Contains(res, "Alpha Drucker") {
			t.Fatalf("the customer's own document is not found: %q", res)
		}
		for _, leak := range []string{"Beta Drucker", "Intern", "Vorlage"} {
			if strings.Contains(res, leak) {
				t.Errorf("q=%q finds %q", q, leak)
			}
		}
	}
}
