package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// createArticle posts the document form as the signed-in person and returns the new document's path.
func createArticle(t *testing.T, e *testEnv, vals url.Values) string {
	t.Helper()
	resp, body := e.post("/o/alpha/articles", vals, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create article: %d %.400s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func TestArticleStaffOnlyNeverReachesCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	open := createArticle(t, e, url.Values{"title": {"Internet ist ausgefallen"}, "folder": {"Notfall"}, "body": {"1. Router neu starten"}, "emergency": {"1"}})
	hidden := createArticle(t, e, url.Values{"title": {"Interne Wartung XYZZY"}, "folder": {"Intern"}, "body": {"geheim-" + marker}, "staff_only": {"1"}, "emergency": {"1"}})
	// Staff see both, in their folders.
	_, body := e.get("/o/alpha/articles", nil)
	for _, want := range []string{"Internet ist ausgefallen", "Interne Wartung XYZZY", "Notfall", "Intern"} {
		if !strings.Contains(body, want) {
			t.Errorf("staff list lacks %q", want)
		}
	}
	for _, u := range []*db.User{f.viewer, f.mgr} {
		f.as(u)
		resp, body := e.get("/o/alpha/articles", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Internet ist ausgefallen") {
			t.Fatalf("%s: list %d", u.Email, resp.StatusCode)
		}
		if strings.Contains(body, "XYZZY") || strings.Contains(body, ">Intern<") {
			t.Errorf("%s: list shows the staff-only document or its folder", u.Email)
		}
		for _, p := range []string{hidden, hidden + "/edit", hidden + "/history", hidden + "/diff?from=1&to=1", open + "/edit", open + "/history", "/o/alpha/articles/new", "/staff/templates"} {
			if resp, body := e.get(p, nil); resp.StatusCode != 404 || strings.Contains(body, marker) {
				t.Errorf("%s: GET %s = %d", u.Email, p, resp.StatusCode)
			}
		}
		for _, p := range []string{"/o/alpha/articles", hidden, hidden + "/delete", open + "/delete", "/o/alpha/articles/copy"} {
			if resp, _ := e.post(p, url.Values{"title": {"x"}}, nil); resp.StatusCode != 404 {
				t.Errorf("%s: POST %s = %d", u.Email, p, resp.StatusCode)
			}
		}
		resp, body = e.get(open, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Router neu starten") {
			t.Errorf("%s: visible document %d", u.Email, resp.StatusCode)
		}
		_, body = e.get("/o/alpha/handbook", nil)
		if !strings.Contains(body, "Internet ist ausgefallen") || strings.Contains(body, "XYZZY") || strings.Contains(body, marker) {
			t.Errorf("%s: handbook procedures wrong", u.Email)
		}
		// The start page leads straight to the emergency procedures the customer may read.
		_, body = e.get("/o/alpha", nil)
		home := doc(t, body).Find(`[data-testid="org-emergency"]`)
		if href, _ := home.Find("a").Attr("href"); href != open || strings.Contains(home.Text(), "XYZZY") {
			t.Errorf("%s: start page emergency links %q: %q", u.Email, href, home.Text())
		}
	}
	// A customer of another organisation sees none of them.
	f.as(f.stranger)
	for _, p := range []string{open, hidden, "/o/alpha/articles"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Errorf("stranger GET %s = %d", p, resp.StatusCode)
		}
	}
	// Staff's handbook has both emergency procedures.
	f.as(f.tech)
	if _, body := e.get("/o/alpha/handbook", nil); !strings.Contains(body, "XYZZY") || !strings.Contains(body, `data-testid="handbook-procedures"`) {
		t.Error("staff handbook lacks the staff-only procedure")
	}
}

func TestArticleMarkdownRenderedHarmless(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	body := "# Anleitung\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n" +
		"[klick](javascript:alert(document.cookie)) [daten](data:text/html;base64,PHNjcmlwdD4=) <div onclick=\"x()\">roh</div>\n\n" +
		"[Hotline](https://example.com/hilfe)\n"
	p := createArticle(t, e, url.Values{"title": {"Bösartig"}, "body": {body}})
	f.as(f.viewer)
	resp, page := e.get(p, nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	d := doc(t, page)
	art := d.Find(`[data-testid="article-body"]`)
	if art.Length() != 1 || art.Find("h1").Text() != "Anleitung" {
		t.Fatalf("article body not rendered: %.500s", page)
	}
	if n := art.Find("script, img, div, iframe").Length(); n != 0 {
		t.Errorf("%d raw elements survived", n)
	}
	html, _ := art.Html()
	for _, bad := range []string{"onerror", "onclick", "javascript:", "data:text", "alert(1)"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered document holds %q: %s", bad, html)
		}
	}
	links := map[string]string{}
	art.Find("a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		rel, _ := a.Attr("rel")
		links[a.Text()] = href + "|" + rel
	})
	// The hostile links are left as their words; the safe one is a link that opens without a referrer.
	if len(links) != 1 || links["Hotline"] != "https://example.com/hilfe|noopener noreferrer" || !strings.Contains(art.Text(), "klick daten") {
		t.Errorf("links: %v, text %q", links, art.Text())
	}
	// The page's own scripts carry the CSP nonce; the document adds none.
	if n := d.Find("script:not([nonce])").Length(); n != 0 {
		t.Errorf("%d scripts without nonce", n)
	}
}

func TestArticleRevisionsDiffAndConflict(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	p := createArticle(t, e, url.Values{"title": {"Onboarding"}, "folder": {"Onboarding neuer Mitarbeiter"}, "body": {"Konto anlegen\nLizenz zuweisen\nNotebook ausgeben\n"}})
	resp, _ := e.post(p, url.Values{"title": {"Onboarding"}, "folder": {"Onboarding neuer Mitarbeiter"}, "version": {"1"},
		"body": {"Konto anlegen\nNotebook ausgeben\nWLAN einrichten\n"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	// A second editor who loaded version 1 is told, and keeps what they typed.
	resp, body := e.post(p, url.Values{"title": {"Onboarding alt"}, "version": {"1"}, "body": {"MEIN TEXT"}}, nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "MEIN TEXT") {
		t.Fatalf("stale save: %d", resp.StatusCode)
	}
	_, body = e.get(p+"/history", nil)
	d := doc(t, body)
	if d.Find(`[data-testid="revision-2"]`).Length() != 1 || d.Find(`[data-testid="revision-1"]`).Length() != 1 {
		t.Fatalf("history: %.600s", body)
	}
	href, _ := d.Find(`[data-testid="diff-2"]`).Attr("href")
	resp, body = e.get(href, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("diff %s: %d", href, resp.StatusCode)
	}
	d = doc(t, body)
	del := d.Find("del.diff-del").Text()
	ins := d.Find("ins.diff-add").Text()
	if !strings.Contains(del, "Lizenz zuweisen") || !strings.Contains(ins, "WLAN einrichten") || strings.Contains(ins+del, "Konto anlegen") {
		t.Errorf("diff: removed %q, added %q", del, ins)
	}
	if resp, _ := e.get(p+"/diff?from=1&to=9", nil); resp.StatusCode != 404 {
		t.Errorf("diff to a missing revision: %d", resp.StatusCode)
	}
	// Validation: a title is required, the body is bounded.
	resp, body = e.post("/o/alpha/articles", url.Values{"title": {""}, "body": {strings.Repeat("x", 100_001)}}, nil)
	if resp.StatusCode != 422 || strings.Count(body, `role="alert"`) < 2 {
		t.Errorf("invalid form: %d", resp.StatusCode)
	}
	// The audit log has the creation and the change.
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action IN ('articles.create', 'articles.update') AND org_id = ?`, f.a.ID); n != 2 {
		t.Errorf("audit entries: %d", n)
	}
}

func TestArticleTemplatesCopiedIntoOrganisation(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	resp, body := e.post("/staff/templates", url.Values{"title": {"Internet ist ausgefallen"}, "folder": {"Notfall"},
		"body": {"Provider-Hotline: **EINTRAGEN**"}, "emergency": {"1"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("template: %d %.300s", resp.StatusCode, body)
	}
	_, body = e.get("/staff/templates", nil)
	if !strings.Contains(body, "Internet ist ausgefallen") {
		t.Fatal("template not listed")
	}
	var tid int64
	e.db.R.QueryRow(`SELECT id FROM articles WHERE org_id IS NULL`).Scan(&tid)
	// Templates are not documents of any organisation.
	if resp, _ := e.get("/o/alpha/articles/"+strconv.FormatInt(tid, 10), nil); resp.StatusCode != 404 {
		t.Fatalf("template reachable as an organisation's document: %d", resp.StatusCode)
	}
	_, body = e.get("/o/alpha/articles", nil)
	if !strings.Contains(body, `data-testid="template-copy"`) {
		t.Fatal("no copy form")
	}
	resp, _ = e.post("/o/alpha/articles/copy", url.Values{"template": {strconv.FormatInt(tid, 10)}}, nil)
	if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "/edit") {
		t.Fatalf("copy: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var org, staffOnly, emergency int64
	var bodyText string
	e.db.R.QueryRow(`SELECT org_id, staff_only, emergency, body FROM articles WHERE org_id IS NOT NULL`).Scan(&org, &staffOnly, &emergency, &bodyText)
	if org != f.a.ID || staffOnly != 1 || emergency != 1 || !strings.Contains(bodyText, "EINTRAGEN") {
		t.Errorf("copy: org %d staff-only %d emergency %d body %q", org, staffOnly, emergency, bodyText)
	}
	// Until staff release it, the copy is not the customer's to read.
	f.as(f.viewer)
	if _, body := e.get("/o/alpha/articles", nil); strings.Contains(body, "Internet ist ausgefallen") {
		t.Error("copied template visible to the customer before release")
	}
	if resp, _ := e.post("/o/alpha/articles/copy", url.Values{"template": {strconv.FormatInt(tid, 10)}}, nil); resp.StatusCode != 404 {
		t.Errorf("customer copy: %d", resp.StatusCode)
	}
}

// Twenty editors save version 1 at once: one revision wins, every other gets 409, and the history holds
// exactly two revisions.
func TestArticleParallelEditsOneWins(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	p := createArticle(t, e, url.Values{"title": {"Parallel"}, "body": {"v1"}})
	results := make(chan int, 20)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			resp, _ := e.post(p, url.Values{"title": {"Parallel"}, "version": {"1"}, "body": {"v2 von " + strconv.Itoa(i)}}, nil)
			results <- resp.StatusCode
		})
	}
	wg.Wait()
	close(results)
	counts := map[int]int{}
	for s := range results {
		counts[s]++
	}
	if counts[303] != 1 || counts[409] != 19 {
		t.Fatalf("statuses: %v", counts)
	}
	if n := countRows(t, e, `SELECT count(*) FROM article_revisions`); n != 2 {
		t.Errorf("%d revisions", n)
	}
}
