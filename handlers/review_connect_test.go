package handlers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portier/db"
)

// Attacks on related items, attachments and bulk actions (issue 13), each through the real router.

func bulkIDs(action string, xs ...int64) url.Values {
	v := url.Values{"action": {action}}
	for _, x := range xs {
		v.Add("id", fmt.Sprint(x))
	}
	return v
}

// A customer's access log must not tell how many staff-only items a bulk export held: the entry the
// customer reads counts only what the customer can see.
func TestBulkExportAuditCountsNoStaffOnlyItemsForCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	resp, csv := e.post("/o/alpha/docs/passwords/bulk", bulkIDs("export", f.items["passwords"], f.secretID), nil)
	if resp.StatusCode != 200 || !strings.Contains(csv, "Domain admin") || !strings.Contains(csv, "NAS admin") {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	entries := auditOf(t, e, f.a.ID, f.tech.ID, "docs.export")
	total := 0
	for _, en := range entries {
		var n int
		fmt.Sscanf(strings.TrimPrefix(en.Target, "passwords: "), "%d", &n)
		total += n
		if !en.StaffOnly && n != 1 {
			t.Fatalf("the customer reads %q: counts the staff-only item", en.Target)
		}
	}
	if total != 2 {
		t.Fatalf("staff read %d exported items in %v", total, entries)
	}
}

// Customers of the organisation (viewer and manager) reach no bulk route with any action.
func TestBulkRoutesRefuseCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	list := "/o/alpha/docs/configurations"
	id := f.items["configurations"]
	for _, u := range []*db.User{f.viewer, f.mgr, f.stranger} {
		f.as(u)
		for _, a := range []string{"delete", "export", "link", "staff_only_on", "staff_only_off"} {
			if resp, body := e.post(list+"/bulk", bulkIDs(a, id), nil); resp.StatusCode != 404 || strings.Contains(body, "FW-01") {
				t.Fatalf("%s bulk %s: %d", u.Email, a, resp.StatusCode)
			}
		}
		if resp, _ := e.get(fmt.Sprintf("%s/bulk/link?id=%d&q=Anna", list, id), nil); resp.StatusCode != 404 {
			t.Fatalf("%s bulk picker: %d", u.Email, resp.StatusCode)
		}
		form := bulkIDs("", id)
		form.Set("other", fmt.Sprint(f.items["contacts"]))
		if resp, _ := e.post(list+"/bulk/link", form, nil); resp.StatusCode != 404 {
			t.Fatalf("%s bulk link: %d", u.Email, resp.StatusCode)
		}
		if resp, _ := e.post(list+"/bulk/restore", nil, nil); resp.StatusCode != 404 {
			t.Fatalf("%s bulk restore: %d", u.Email, resp.StatusCode)
		}
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_links`).Scan(&n)
	if it, _ := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID}, "configurations", id); it == nil || n != 0 {
		t.Fatal("a refused bulk request changed something")
	}
	// Staff: a bulk link to another organisation's item is refused, whatever the form says.
	f.as(f.tech)
	form := bulkIDs("", id)
	form.Set("other", fmt.Sprint(f.bItem))
	if resp, _ := e.post(list+"/bulk/link", form, nil); resp.StatusCode != 404 {
		t.Fatalf("bulk link to org B: %d", resp.StatusCode)
	}
	// The picker's search never names another organisation's items.
	if _, body := e.get(fmt.Sprintf("/o/alpha/docs/configurations/%d/links/new?q=Beta", id), nil); strings.Contains(body, "Beta secret") {
		t.Fatal("picker finds org B's item")
	}
	if _, body := e.get(fmt.Sprintf("%s/bulk/link?id=%d&q=Beta", list, id), nil); strings.Contains(body, "Beta secret") {
		t.Fatal("bulk picker finds org B's item")
	}
}

// A visible file on a staff-only item is not the customer's: not listed, not downloaded, no preview.
func TestAttachmentOnStaffOnlyItemHiddenFromCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID)
	f.as(f.tech)
	if resp, _ := e.upload(item, "pic.png", tinyPNG(t), false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	_, body := e.get(item, nil)
	href := fileIDs(t, body)["pic.png"]
	if href == "" {
		t.Fatal("no file")
	}
	for _, u := range []*db.User{f.viewer, f.mgr, f.stranger} {
		f.as(u)
		for _, p := range []string{href, href + "/view", href + "/thumb"} {
			if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
				t.Fatalf("%s %s: %d", u.Email, p, resp.StatusCode)
			}
		}
	}
	f.as(f.mgr)
	if _, body := e.get("/o/alpha/audit", nil); strings.Contains(body, "pic.png") || strings.Contains(body, "Domain admin") {
		t.Fatal("the access log names the staff-only item's file")
	}
}

// tinyPNG is a small real picture.
func tinyPNG(t *testing.T) []byte {
	var buf bytes.Buffer
	buf.Write([]byte("\x89PNG\r\n\x1a\n"))
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		buf.Write(c)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 1)
	binary.BigEndian.PutUint32(ihdr[4:], 1)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x62, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01}) // one scanline: filter 0, pixel 0
	chunk("IEND", nil)
	return buf.Bytes()
}

// bombPNG declares a picture of 16384 × 16384 16-bit RGBA pixels (2 GiB decoded) in a few bytes.
func bombPNG() []byte {
	var buf bytes.Buffer
	buf.Write([]byte("\x89PNG\r\n\x1a\n"))
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		buf.Write(c)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 16384)
	binary.BigEndian.PutUint32(ihdr[4:], 16384)
	ihdr[8], ihdr[9] = 16, 6
	chunk("IHDR", ihdr)
	chunk("IDAT", bytes.Repeat([]byte{0}, 600)) // the 512 bytes the type check reads, and some
	chunk("IEND", nil)
	return buf.Bytes()
}

// A picture that declares more pixels than a preview may decode is stored without a preview; nothing is
// decoded. Zero bytes are refused with a message and nothing is stored; a file of exactly one chunk
// comes back identical.
func TestAttachmentBombZeroAndChunkSize(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	if resp, _ := e.upload(fw, "bomb.png", bombPNG(), false); resp.StatusCode != 303 {
		t.Fatalf("bomb upload: %d", resp.StatusCode)
	}
	if resp, _ := e.upload(fw, "empty.txt", nil, false); resp.StatusCode != 303 {
		t.Fatalf("empty upload: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	if !strings.Contains(body, "The file was not stored") {
		t.Fatal("an empty file without a message")
	}
	exact := bytes.Repeat([]byte("a"), db.AttachmentChunk)
	if resp, _ := e.upload(fw, "exact.txt", exact, false); resp.StatusCode != 303 {
		t.Fatalf("exact upload: %d", resp.StatusCode)
	}
	_, body = e.get(fw, nil)
	files := fileIDs(t, body)
	if len(files) != 2 || files["bomb.png"] == "" || files["exact.txt"] == "" {
		t.Fatalf("files %v", files)
	}
	if resp, _ := e.get(files["bomb.png"]+"/thumb", nil); resp.StatusCode != 404 {
		t.Fatalf("the bomb got a preview: %d", resp.StatusCode)
	}
	if resp, got := e.get(files["exact.txt"], nil); resp.StatusCode != 200 || got != string(exact) {
		t.Fatalf("exact download: %d, %d bytes", resp.StatusCode, len(got))
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_attachments`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d attachment rows", n)
	}
}

// File names with quotes, line breaks, Unicode and great length are sent as one Content-Disposition
// header that names the file (cleaned) and stays an attachment.
func TestAttachmentNamesCannotInjectHeaders(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	// What a browser could send raw in the part's header loses its control characters before it is stored.
	if got := cleanFileName("line\r\nSet-Cookie: x=1\x00.txt"); got != "lineSet-Cookie: x=1.txt" {
		t.Fatalf("cleaned name %q", got)
	}
	f.as(f.tech)
	names := map[string]string{
		"a\"; filename=evil.html; x=\".txt":  "a\"; filename=evil.html; x=\".txt",
		"line\r\nSet-Cookie: x=1.txt":        "line%0D%0ASet-Cookie: x=1.txt", // how the form's writer sends it
		"Übergabe – Größe ✓.txt":             "Übergabe – Größe ✓.txt",
		strings.Repeat("ä", 300) + "end.txt": strings.Repeat("ä", 193) + "end.txt",
	}
	for name := range names {
		if resp, _ := e.upload(fw, name, []byte("plain text\n"), false); resp.StatusCode != 303 {
			t.Fatalf("upload %q: %d", name, resp.StatusCode)
		}
	}
	_, body := e.get(fw, nil)
	files := fileIDs(t, body)
	for sent, want := range names {
		href := files[want]
		if href == "" {
			t.Fatalf("%q not listed as %q: %v", sent, want, files)
		}
		resp, _ := e.get(href, nil)
		cd := resp.Header.Values("Content-Disposition")
		if resp.StatusCode != 200 || len(cd) != 1 || resp.Header.Get("Set-Cookie") != "" && strings.Contains(resp.Header.Get("Set-Cookie"), "x=1") {
			t.Fatalf("%q: %d %v", sent, resp.StatusCode, resp.Header)
		}
		disp, params, err := mime.ParseMediaType(cd[0])
		if err != nil || disp != "attachment" || params["filename"] != want {
			t.Fatalf("%q: Content-Disposition %q parses as %q %q %v", sent, cd[0], disp, params["filename"], err)
		}
	}
}

// A backup holds attachments sealed: their bytes are not in it.
func TestAttachmentBytesNotInBackup(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	content := []byte("MARKER-backup-anhang-0815 " + strings.Repeat("x", 70000))
	if resp, _ := e.upload(fw, "marker.txt", content, false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(context.Background(), e.db.Path, out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, e.db.Path, e.db.Path + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("MARKER-backup-anhang")) {
			t.Fatalf("%s holds attachment bytes", filepath.Base(p))
		}
	}
}

// Parallel uploads to one item all arrive whole, each its own file.
func TestParallelUploadsToOneItem(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	const n = 6
	contents := make([][]byte, n)
	for i := range contents {
		contents[i] = bytes.Repeat([]byte(fmt.Sprintf("file %d line\n", i)), 9000+i*1000)
	}
	as := e.fire(n, func(i int) (answer, error) {
		body, ct := uploadBody(fmt.Sprintf("f%d.txt", i), bytes.NewReader(contents[i]), false)
		req, err := http.NewRequest(http.MethodPost, e.URL(fw+"/attachments"), body)
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", ct)
		resp, err := e.client.Do(req)
		if err != nil {
			return answer{}, err
		}
		resp.Body.Close()
		return answer{status: resp.StatusCode}, nil
	})
	if countStatus(as, 303) != n {
		t.Fatalf("answers %v", as)
	}
	_, body := e.get(fw, nil)
	files := fileIDs(t, body)
	for i := range n {
		resp, got := e.get(files[fmt.Sprintf("f%d.txt", i)], nil)
		if resp.StatusCode != 200 || got != string(contents[i]) {
			t.Fatalf("f%d: %d, identical %v", i, resp.StatusCode, got == string(contents[i]))
		}
	}
	if got := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.attach")); got != n {
		t.Fatalf("%d attach entries", got)
	}
}

// The same bulk deletion sent many times at once deletes once (one audit entry per item); the undo sent
// many times at once restores once, with the links.
func TestParallelBulkDeleteAndUndo(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	list := "/o/alpha/docs/passwords"
	f.as(f.tech)
	if resp, _ := e.post(fmt.Sprintf("/o/alpha/docs/configurations/%d/links", f.items["configurations"]),
		url.Values{"other": {fmt.Sprint(f.items["passwords"])}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	form := bulkIDs("delete", f.items["passwords"], f.secretID)
	as := e.fire(8, func(int) (answer, error) { return e.postAs(e.client, list+"/bulk", form) })
	if countStatus(as, 303) != 1 || countStatus(as, 404) != 7 {
		t.Fatalf("deletes: %v", as)
	}
	if got := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.delete")); got != 2 {
		t.Fatalf("%d delete entries", got)
	}
	as = e.fire(8, func(int) (answer, error) { return e.postAs(e.client, list+"/bulk/restore", url.Values{}) })
	if countStatus(as, 303) != 1 || countStatus(as, 404) != 7 {
		t.Fatalf("undos: %v", as)
	}
	if got := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.restore")); got != 2 {
		t.Fatalf("%d restore entries", got)
	}
	_, body := e.get(fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"]), nil)
	if !strings.Contains(doc(t, body).Find(`[data-testid="related"]`).Text(), "NAS admin") {
		t.Fatal("the undo lost the link")
	}
}

// The undo restores the items the bulk deletion deleted and nothing else: an item deleted before on its
// own stays deleted, with its links hidden; an item of the deletion restored meanwhile on its own does
// not keep the others from coming back.
func TestBulkUndoRestoresOnlyWhatItDeleted(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	for _, o := range []int64{f.items["passwords"], f.items["contacts"], f.items["wireless"]} {
		if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(o)}}, nil); resp.StatusCode != 303 {
			t.Fatalf("link %d: %d", o, resp.StatusCode)
		}
	}
	nas := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	wlan := fmt.Sprintf("/o/alpha/docs/wireless/%d", f.items["wireless"])
	for _, it := range []string{nas, wlan} {
		if resp, _ := e.upload(it, "notes.txt", []byte("notes of "+it+"\n"), false); resp.StatusCode != 303 {
			t.Fatalf("upload %s: %d", it, resp.StatusCode)
		}
	}
	// The Wi-Fi is deleted on its own first.
	if resp, _ := e.post(fmt.Sprintf("/o/alpha/docs/wireless/%d/delete", f.items["wireless"]), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete wireless: %d", resp.StatusCode)
	}
	mk := func(name string) int64 {
		id, err := e.db.DocCreate(context.Background(), e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: name},
			db.DocActor{Name: "Setup"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	p2 := mk("Second password")
	list := "/o/alpha/docs/passwords"
	if resp, _ := e.post(list+"/bulk", bulkIDs("delete", f.items["passwords"], p2), nil); resp.StatusCode != 303 {
		t.Fatalf("bulk delete: %d", resp.StatusCode)
	}
	// p2 comes back on its own (its own page's restore) before the undo.
	if resp, _ := e.post(fmt.Sprintf("%s/%d/restore", list, p2), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("single restore: %d", resp.StatusCode)
	}
	if resp, _ := e.post(list+"/bulk/restore", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("undo after one item came back on its own: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	rel := doc(t, body).Find(`[data-testid="related"]`).Text()
	if !strings.Contains(rel, "NAS admin") || !strings.Contains(rel, "Anna Kontakt") || strings.Contains(rel, "Alpha-WLAN") {
		t.Fatalf("related after undo: %q", rel)
	}
	if it, _ := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true}, "passwords", p2); it == nil {
		t.Fatal("p2 deleted again")
	}
	if resp, _ := e.get(wlan, nil); resp.StatusCode != 404 {
		t.Fatalf("the undo restored an item it did not delete: %d", resp.StatusCode)
	}
	if resp, _ := e.get(wlan+"/attachments/2", nil); resp.StatusCode != 404 {
		t.Fatalf("the file of an item the undo did not restore: %d", resp.StatusCode)
	}
	_, body = e.get(nas, nil)
	if href := fileIDs(t, body)["notes.txt"]; href != nas+"/attachments/1" {
		t.Fatalf("the restored item's file: %q", href)
	}
}

// Markup and script disguised as a PDF, a picture or text, and polyglots, are never sent as something a
// browser would run: stored by their content, sent with nosniff, a sandboxing CSP and no-store; only
// pictures and PDFs are ever shown inline.
func TestAttachmentDisguisedMarkupNeverServedAsMarkup(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	script := "<html><body><script>alert(document.cookie)</script></body></html>"
	cases := map[string][]byte{
		"contract.pdf": []byte("%PDF-1.4\n" + script),
		"logo.gif":     []byte("GIF89a/*" + script + "*/=alert(1);"),
		"icon.svg":     []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`),
		"diagram.svg":  []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>`),
		"app.js":       []byte("alert(document.domain)// plain text to the sniffer\n"),
		"page.png":     []byte("<!DOCTYPE html>" + script),
		"utf16.txt":    append([]byte{0xff, 0xfe}, []byte("<\x00s\x00c\x00r\x00i\x00p\x00t\x00>\x00")...),
	}
	for name, content := range cases {
		if resp, _ := e.upload(fw, name, content, false); resp.StatusCode != 303 {
			t.Fatalf("upload %s: %d", name, resp.StatusCode)
		}
	}
	_, body := e.get(fw, nil)
	files := fileIDs(t, body)
	if len(files) != len(cases)-1 || files["page.png"] != "" {
		t.Fatal("HTML named .png was stored")
	}
	for name, href := range files {
		for _, p := range []string{href, href + "/view"} {
			resp, got := e.get(p, nil)
			if resp.StatusCode == 404 && strings.HasSuffix(p, "/view") {
				continue
			}
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != 200 || got != string(cases[name]) {
				t.Fatalf("%s %s: %d", name, p, resp.StatusCode)
			}
			for _, bad := range []string{"html", "svg", "xml", "javascript", "ecmascript"} {
				if strings.Contains(ct, bad) {
					t.Fatalf("%s %s served as %q", name, p, ct)
				}
			}
			if !strings.HasPrefix(ct, "application/pdf") && !strings.HasPrefix(ct, "image/") && strings.HasSuffix(p, "/view") {
				t.Fatalf("%s shown inline as %q", name, ct)
			}
			h := resp.Header
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
				h.Get("Cache-Control") != "no-store" || strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
				t.Fatalf("%s %s headers %v", name, p, h)
			}
		}
	}
}

// Removing the same link many times at once removes it once, with one audit entry and one history line.
func TestParallelLinkRemove(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	nas := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	f.as(f.tech)
	if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(f.items["passwords"])}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	as := e.fire(10, func(i int) (answer, error) {
		if i%2 == 0 {
			return e.postAs(e.client, fmt.Sprintf("%s/links/%d/delete", fw, f.items["passwords"]), url.Values{})
		}
		return e.postAs(e.client, fmt.Sprintf("%s/links/%d/delete", nas, f.items["configurations"]), url.Values{})
	})
	if countStatus(as, 303) != 1 || countStatus(as, 404) != 9 {
		t.Fatalf("answers %v", as)
	}
	var links, events int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_links`).Scan(&links)
	e.db.R.QueryRow(`SELECT count(*) FROM doc_link_events WHERE change = 'unlink'`).Scan(&events)
	if links != 0 || events != 1 || len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.unlink")) != 1 {
		t.Fatalf("%d links, %d unlink events, %d audit entries", links, events, len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.unlink")))
	}
}

// Linking and unlinking a staff-only item leaves no trace of it in the customer's access log.
func TestLinkToStaffOnlyItemNotInCustomersAccessLog(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	if resp, _ := e.post(fw+"/links", url.Values{"other": {fmt.Sprint(f.secretID)}, "label": {"Domänen-Zugang"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	if resp, _ := e.post(fmt.Sprintf("%s/links/%d/delete", fw, f.secretID), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("unlink: %d", resp.StatusCode)
	}
	f.as(f.mgr)
	_, body := e.get("/o/alpha/audit", nil)
	if strings.Contains(body, "Domain admin") || strings.Contains(body, "Domänen-Zugang") ||
		doc(t, body).Find(`[data-testid=audit-row][data-action^="docs.link"], [data-testid=audit-row][data-action="docs.unlink"]`).Length() != 0 {
		t.Fatal("the customer's access log shows the staff-only link")
	}
	_, body = e.get("/o/alpha/audit?action=docs.link", nil)
	if strings.Contains(body, "Domain admin") {
		t.Fatal("filtered access log names the staff-only item")
	}
}

// Another organisation's route reaches nothing of this one's items and files, for staff too: no upload
// onto, download from or link to an item through a route it does not belong to, and a file id of
// another organisation on one's own item is not found.
func TestConnectionsAcrossOrganisations(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	fw := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	f.as(f.tech)
	if resp, _ := e.upload(fw, "alpha.txt", []byte("alpha only\n"), false); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	_, body := e.get(fw, nil)
	href := fileIDs(t, body)["alpha.txt"]
	aid := href[strings.LastIndex(href, "/")+1:]
	viaBeta := strings.Replace(fw, "/o/alpha/", "/o/beta/", 1)
	bItem := fmt.Sprintf("/o/beta/docs/passwords/%d", f.bItem)
	for _, p := range []string{viaBeta + "/attachments/" + aid, bItem + "/attachments/" + aid, bItem + "/attachments/" + aid + "/thumb",
		viaBeta + "/links/new?q=FW"} {
		if resp, got := e.get(p, nil); resp.StatusCode != 404 || strings.Contains(got, "alpha only") {
			t.Fatalf("staff GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.upload(viaBeta, "x.txt", []byte("x\n"), false); resp.StatusCode != 404 {
		t.Fatalf("upload through org B's route: %d", resp.StatusCode)
	}
	for _, p := range []string{bItem + "/attachments/" + aid + "/delete", bItem + "/attachments/" + aid + "/staff-only"} {
		if resp, _ := e.post(p, nil, nil); resp.StatusCode != 404 {
			t.Fatalf("staff POST %s: %d", p, resp.StatusCode)
		}
	}
	// Link org B's item to org A's from org B's side.
	if resp, _ := e.post(bItem+"/links", url.Values{"other": {fmt.Sprint(f.items["configurations"])}}, nil); resp.StatusCode != 404 {
		t.Fatalf("link from org B to org A: %d", resp.StatusCode)
	}
	f.as(f.stranger)
	if resp, got := e.get(bItem+"/attachments/"+aid, nil); resp.StatusCode != 404 || strings.Contains(got, "alpha only") {
		t.Fatalf("org B's customer, org A's file id on their own item: %d", resp.StatusCode)
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM doc_links`).Scan(&n)
	if n != 0 {
		t.Fatal("a link across organisations was stored")
	}
}
