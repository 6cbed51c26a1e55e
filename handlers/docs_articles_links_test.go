package handlers

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

// docID is the id at the end of a document's path.
func docID(t *testing.T, path string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(path[strings.LastIndex(path, "/")+1:], "%d", &id); err != nil {
		t.Fatalf("no id in %q", path)
	}
	return id
}

func TestDocumentLinksFromBothSidesNeverAcrossOrgsNorStaffOnlyForCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	domain := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	f.as(f.tech)
	proc := createArticle(t, e, url.Values{"title": {"Notfallplan Internet"}, "body": {"Hotline anrufen"}, "emergency": {"1"}})
	hidden := createArticle(t, e, url.Values{"title": {"Interne Notiz XYZZY"}, "body": {"nur intern"}, "staff_only": {"1"}})
	resp, _ := e.post("/o/beta/articles", url.Values{"title": {"Beta Handbuch"}}, nil)
	beta := resp.Header.Get("Location")
	if resp.StatusCode != 303 || beta == "" {
		t.Fatalf("beta document: %d", resp.StatusCode)
	}
	hiddenRow := fmt.Sprintf("d%d", docID(t, hidden))

	// Chosen by typing: from the document the items, from the item the documents too (as d<id>); htmx
	// gets the results only.
	_, body := e.get(proc+"/links/new?q=FW", nil)
	if !strings.Contains(body, fmt.Sprintf(`value="%d"`, f.items["configurations"])) {
		t.Fatal("document's picker does not offer FW-01")
	}
	_, body = e.get(fw+"/links/new?q=Notiz", map[string]string{"HX-Request": "true"})
	if strings.Contains(body, "<html") || !strings.Contains(body, `value="`+hiddenRow+`"`) || strings.Contains(body, "Beta Handbuch") {
		t.Fatalf("item's picker fragment: %.300s", body)
	}
	if resp, _ := e.post(proc+"/links", url.Values{"other": {fmt.Sprint(f.items["configurations"])}, "label": {"Router"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link from the document: %d", resp.StatusCode)
	}
	if resp, _ := e.post(proc+"/links", url.Values{"other": {fmt.Sprint(f.secretID)}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link to a staff-only item: %d", resp.StatusCode)
	}
	if resp, _ := e.post(fw+"/links", url.Values{"other": {hiddenRow}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link from the item: %d", resp.StatusCode)
	}
	if resp, body := e.post(fw+"/links", url.Values{"other": {fmt.Sprintf("d%d", docID(t, proc))}}, nil); resp.StatusCode != 409 || !strings.Contains(body, "linked already") {
		t.Fatalf("linked pair again from the other side: %d", resp.StatusCode)
	}
	// Authority across organisations: every combination of an id of the other organisation is not found.
	for _, c := range []struct{ path, other string }{
		{proc + "/links", fmt.Sprint(f.bItem)},                   // alpha document, beta item
		{fw + "/links", fmt.Sprintf("d%d", docID(t, beta))},      // alpha item, beta document
		{beta + "/links", fmt.Sprint(f.items["configurations"])}, // beta document, alpha item
		{fmt.Sprintf("/o/alpha/articles/%d/links", docID(t, beta)), fmt.Sprint(f.items["configurations"])},
		{fmt.Sprintf("/o/beta/articles/%d/links", docID(t, proc)), fmt.Sprint(f.bItem)},
	} {
		if resp, _ := e.post(c.path, url.Values{"other": {c.other}}, nil); resp.StatusCode != 404 {
			t.Errorf("POST %s other=%s: %d", c.path, c.other, resp.StatusCode)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM article_links`); n != 3 {
		t.Fatalf("links stored: %d", n)
	}

	// Both sides, grouped by area; both histories.
	_, body = e.get(fw, nil)
	rel := doc(t, body).Find(`[data-testid="related"]`)
	if rel.Find(`[data-testid="related-d`+fmt.Sprint(docID(t, proc))+`"] a`).AttrOr("href", "") != proc ||
		rel.Find(`[data-testid="related-`+hiddenRow+`"]`).Length() != 1 || !strings.Contains(rel.Find("h3").Text(), "Documents") {
		t.Fatalf("item page: %q", rel.Text())
	}
	_, body = e.get(proc, nil)
	rel = doc(t, body).Find(`[data-testid="related"]`)
	if !strings.Contains(rel.Text(), "FW-01") || !strings.Contains(rel.Text(), "Router") || !strings.Contains(rel.Text(), "Domain admin") ||
		!strings.Contains(rel.Find("h3").Text(), "Configurations") {
		t.Fatalf("document page: %q", rel.Text())
	}
	if _, body = e.get(fw+"/history", nil); !strings.Contains(body, "Linked with “Interne Notiz XYZZY”") {
		t.Fatal("item history without the document link")
	}
	if _, body = e.get(proc+"/history", nil); !strings.Contains(body, "Linked with “FW-01”") {
		t.Fatal("document history without the link")
	}

	// Customers: the visible document and item only — no name, no group, no count of the others.
	for _, u := range []*db.User{f.viewer, f.mgr} {
		f.as(u)
		_, body := e.get(fw, nil)
		rel := doc(t, body).Find(`[data-testid="related"]`)
		if rel.Find("li").Length() != 1 || strings.Contains(body, "XYZZY") {
			t.Errorf("%s on the item: %q", u.Email, rel.Text())
		}
		_, body = e.get(proc, nil)
		rel = doc(t, body).Find(`[data-testid="related"]`)
		if rel.Find("li").Length() != 1 || strings.Contains(body, "Domain admin") || rel.Find(`[data-testid="link-add"]`).Length() != 0 {
			t.Errorf("%s on the document: %q", u.Email, rel.Text())
		}
		for _, p := range []string{proc + "/links", fw + "/links"} {
			if resp, _ := e.post(p, url.Values{"other": {fmt.Sprint(f.items["vpn"])}}, nil); resp.StatusCode != 404 {
				t.Errorf("%s links through %s: %d", u.Email, p, resp.StatusCode)
			}
		}
		if resp, _ := e.get(proc+"/links/new", nil); resp.StatusCode != 404 {
			t.Errorf("%s opens the picker: %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.get(domain, nil); resp.StatusCode != 404 {
			t.Errorf("%s opens the staff-only item", u.Email)
		}
	}

	// Deleting the document hides its links; the undo brings them back; unlinking from the item's side.
	f.as(f.tech)
	if resp, _ := e.post(proc+"/delete", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, body = e.get(fw, nil); strings.Contains(body, "Notfallplan Internet") {
		t.Fatal("a deleted document's link is shown")
	}
	_, body = e.get("/o/alpha/articles", nil)
	undo := doc(t, body).Find(`[data-testid="undo"]`).Closest("form").AttrOr("action", "")
	if undo != proc+"/restore" {
		t.Fatalf("undo action %q", undo)
	}
	if resp, _ := e.post(undo, nil, nil); resp.StatusCode != 303 {
		t.Fatalf("restore: %d", resp.StatusCode)
	}
	if _, body = e.get(fw, nil); !strings.Contains(body, "Notfallplan Internet") {
		t.Fatal("restored document's link not back")
	}
	if resp, _ := e.post(fmt.Sprintf("%s/links/d%d/delete", fw, docID(t, proc)), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("unlink: %d", resp.StatusCode)
	}
	if _, body = e.get(proc+"/history", nil); !strings.Contains(body, "Link to “FW-01” removed") {
		t.Fatal("document history without the unlink")
	}
	if got := auditOf(t, e, f.a.ID, f.tech.ID, "docs.unlink"); len(got) != 1 || !strings.Contains(got[0].Target, ":documents:Notfallplan Internet") {
		t.Fatalf("unlink audit: %+v", got)
	}
}

func TestDocumentAttachmentsBytesIdenticalStaffOnlyAndAudited(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	proc := createArticle(t, e, url.Values{"title": {"Notfallplan"}, "body": {"Vertrag siehe Anhang"}})
	// > one chunk, and larger than a plain form may be: the document's upload route has the files' limit.
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("Vertrag 0815 "), 250000)...)
	if resp, body := e.upload(proc, "Vertrag Provider.pdf", pdf, false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := e.upload(proc, "intern.txt", []byte("nur fuer uns\n"), true); resp.StatusCode != 303 {
		t.Fatalf("upload staff-only: %d", resp.StatusCode)
	}
	if resp, _ := e.upload(proc, "x.txt", []byte("<html><script>alert(1)</script>"), false); resp.StatusCode != 303 {
		t.Fatalf("refused upload: %d", resp.StatusCode)
	} else if _, body := e.get(proc, nil); !strings.Contains(body, "Only PDFs, pictures") {
		t.Fatal("HTML not refused with a message")
	}
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		img.Set(x, x%200, color.RGBA{uint8(x), 10, 99, 255})
	}
	var pic bytes.Buffer
	png.Encode(&pic, img)
	if resp, _ := e.upload(proc, "rack.png", pic.Bytes(), false); resp.StatusCode != 303 {
		t.Fatalf("upload picture: %d", resp.StatusCode)
	}
	_, body := e.get(proc, nil)
	files := fileIDs(t, body)
	if len(files) != 3 || !strings.HasPrefix(files["Vertrag Provider.pdf"], proc+"/attachments/") {
		t.Fatalf("staff sees %v", files)
	}
	resp, got := e.get(files["Vertrag Provider.pdf"], nil)
	if resp.StatusCode != 200 || got != string(pdf) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		resp.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d, identical %v, %v", resp.StatusCode, got == string(pdf), resp.Header)
	}
	src := doc(t, body).Find(`img.file-thumb`).AttrOr("src", "")
	if resp, thumb := e.get(src, nil); src == "" || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || thumb == pic.String() {
		t.Fatalf("preview %q: %d", src, resp.StatusCode)
	}
	// The same size limit as items' files.
	big := append([]byte("%PDF-1.4\n"), make([]byte, DefaultAttachmentMax)...)
	if resp, _ := e.upload(proc, "big.pdf", big, false); resp.StatusCode != 413 && resp.StatusCode != 303 {
		t.Fatalf("oversized upload: %d", resp.StatusCode)
	}
	if _, body := e.get(proc, nil); len(fileIDs(t, body)) != 3 {
		t.Fatal("oversized file stored")
	}

	f.as(f.viewer)
	_, body = e.get(proc, nil)
	cf := fileIDs(t, body)
	if len(cf) != 2 || cf["intern.txt"] != "" || strings.Contains(body, "intern.txt") {
		t.Fatalf("customer sees %v", cf)
	}
	if resp, _ := e.get(files["intern.txt"], nil); resp.StatusCode != 404 {
		t.Fatalf("customer downloads a staff-only file: %d", resp.StatusCode)
	}
	if resp, got := e.get(cf["Vertrag Provider.pdf"], nil); resp.StatusCode != 200 || got != string(pdf) {
		t.Fatalf("customer download: %d", resp.StatusCode)
	}
	if resp, _ := e.upload(proc, "y.txt", []byte("hello"), false); resp.StatusCode != 404 {
		t.Fatalf("customer uploads: %d", resp.StatusCode)
	}
	dl := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.download")
	if len(dl) != 1 || !strings.Contains(dl[0].Target, ":documents:Notfallplan (Vertrag Provider.pdf)") {
		t.Fatalf("download audit: %+v", dl)
	}
	f.as(f.mgr)
	if _, body := e.get("/o/alpha/audit", nil); !strings.Contains(body, "Documents: Notfallplan (Vertrag Provider.pdf)") {
		t.Fatal("the access log does not name the document's file")
	}
	// Another organisation's customer: nothing.
	f.as(f.stranger)
	if resp, _ := e.get(files["Vertrag Provider.pdf"], nil); resp.StatusCode != 404 {
		t.Fatalf("stranger downloads: %d", resp.StatusCode)
	}
}

func TestDocumentsInSearchNeverStaffOnlyForCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	open := createArticle(t, e, url.Values{"title": {"Drucker einrichten"}, "body": {"Treiber von der Herstellerseite laden"}})
	hidden := createArticle(t, e, url.Values{"title": {"Interne Treiberliste"}, "body": {"Lizenzschlüssel"}, "staff_only": {"1"}})
	// An edit is found by its new words, not its old ones.
	if resp, _ := e.post(open, url.Values{"title": {"Drucker einrichten"}, "body": {"Treiber vom Fileserver nehmen"}, "version": {"1"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	hrefs := func(body string) string {
		var out []string
		for _, n := range doc(t, body).Find(`[data-testid="search-results"] a`).Nodes {
			for _, a := range n.Attr {
				if a.Key == "href" {
					out = append(out, a.Val)
				}
			}
		}
		return strings.Join(out, " ")
	}
	if _, body := e.get("/o/alpha/search?q=treiber", nil); !strings.Contains(hrefs(body), open) || !strings.Contains(hrefs(body), hidden) {
		t.Fatalf("staff search: %q", hrefs(body))
	}
	if _, body := e.get("/o/alpha/search?q=fileserver", nil); !strings.Contains(hrefs(body), open) || !strings.Contains(body, "Fileserver") {
		t.Fatalf("body match: %q", hrefs(body))
	}
	if _, body := e.get("/o/alpha/search?q=herstellerseite", nil); strings.Contains(hrefs(body), open) {
		t.Fatal("found by its old body")
	}
	if _, body := e.get("/staff/search?q=treiber", nil); !strings.Contains(hrefs(body), open) || !strings.Contains(hrefs(body), hidden) {
		t.Fatalf("staff search across organisations: %q", hrefs(body))
	}
	for _, u := range []*db.User{f.viewer, f.mgr} {
		f.as(u)
		_, body := e.get("/o/alpha/search?q=treiber", nil)
		if !strings.Contains(hrefs(body), open) || strings.Contains(body, "Interne Treiberliste") {
			t.Errorf("%s search: %q", u.Email, hrefs(body))
		}
		if _, body := e.get("/o/alpha/search?q=lizenzschlussel", nil); strings.Contains(body, "Interne") {
			t.Errorf("%s finds the staff-only document by its body", u.Email)
		}
	}
	f.as(f.stranger)
	if resp, _ := e.get("/o/alpha/search?q=treiber", nil); resp.StatusCode != 404 {
		t.Fatalf("stranger searches alpha: %d", resp.StatusCode)
	}
	if _, body := e.get("/o/beta/search?q=treiber", nil); strings.Contains(body, "Drucker") {
		t.Fatal("beta's search finds alpha's document")
	}
}
