package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Review of documents (docs_articles.go, db/articles.go). Those two files are being restructured
// elsewhere; what could be fixed outside them (the Markdown renderer) is fixed and tested here through the
// documents' routes, the rest is written as a failing test, skipped with its finding number until the
// owner of those files fixes it.

// Fixed in package markdown: a staff member's 13 KB document with a table of 3,000 columns rendered to
// 9 MB of HTML on every view by anyone (a 100 KB one to 880 MB, taking a minute and gigabytes of memory):
// the page, the preview and the handbook now stay small and fast.
func TestDocumentHostileMarkdownPageIsBounded(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	body := strings.Repeat("|a", 3000) + "\n" + strings.Repeat("|-", 3000) + "\n" + strings.Repeat("|x\n", 300)
	page := createArticle(t, e, url.Values{"title": {"Breite Tabelle"}, "body": {body}, "emergency": {"1"}})
	if resp, html := e.post("/o/alpha/articles", url.Values{"title": {"Vorschau"}, "body": {body}, "preview": {"1"}}, nil); resp.StatusCode != 200 || len(html) > 1<<20 {
		t.Errorf("preview: %d, %d bytes", resp.StatusCode, len(html))
	}
	f.as(f.viewer)
	for _, p := range []string{page, "/o/alpha/handbook"} {
		start := time.Now()
		resp, html := e.get(p, nil)
		if resp.StatusCode != 200 || len(html) > 1<<20 || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %d, %d bytes in %v", p, resp.StatusCode, len(html), time.Since(start))
		}
	}
}

// Finding 1 (low): a picture in a document is fetched by every reader's browser with the reader's
// session (the CSP allows img-src 'self'). A document author points it at a route that records what the
// reader did: "![](/o/alpha/export/passwords)" writes a "docs.export" line, and an item's attachment a
// "downloaded" line, into the customer's access log in the name of each customer who merely opened the
// procedure. Suggested fix: markdown.Render keeps an image's address only when it is a picture of the
// documentation's own (an attachment's /thumb or /view of the same organisation; Render would take the
// organisation's prefix), or drops same-site image addresses altogether until documents have files.
func TestDocumentPicturesCannotActForTheReader(t *testing.T) {
	t.Skip("finding 1: a document's picture makes each reader's browser fetch any same-site address (exports, downloads) in the reader's name")
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	att := "/o/alpha/docs/configurations/" + strconv.FormatInt(f.items["configurations"], 10) + "/attachments/1"
	page := createArticle(t, e, url.Values{"title": {"Anleitung"}, "body": {"![Übersicht](/o/alpha/export/passwords) ![Vertrag](" + att + ")"}})
	f.as(f.viewer)
	_, html := e.get(page, nil)
	doc(t, html).Find("article img, main img").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); strings.HasPrefix(src, "/") && !strings.HasSuffix(src, "/thumb") {
			t.Errorf("a document's picture loads %q with the reader's session", src)
		}
	})
}
