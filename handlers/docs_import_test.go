package handlers

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"portier/db"
)

// postFile uploads one file as multipart form field "file".
func (e *testEnv) postFile(path, name string, content []byte, hdr map[string]string) (*http.Response, string) {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(content)
	w.Close()
	h := map[string]string{"Content-Type": w.FormDataContentType()}
	for k, v := range hdr {
		h[k] = v
	}
	return e.do(http.MethodPost, path, &body, h)
}

// confirmImport presses "import" on a preview page.
func (e *testEnv) confirmImport(path, previewBody string) *http.Response {
	e.t.Helper()
	draft, ok := doc(e.t, previewBody).Find(`[data-testid="import-preview"] input[name="draft"]`).Attr("value")
	if !ok {
		e.t.Fatalf("no preview on the page: %.500s", previewBody)
	}
	resp, _ := e.post(path+"/confirm", url.Values{"draft": {draft}}, nil)
	return resp
}

func TestCSVImportAllOrNothing(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	count := func() int {
		n, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
		return n["contacts"]
	}
	before := count()
	// German column names, semicolons, one bad e-mail on line 3.
	bad := "\ufeffName;E-Mail;Telefon;Hauptansprechpartner\nErika Muster;erika@alpha.example;+49 30 1;ja\nMax Falsch;kein-at-zeichen;+49 30 2;nein\nOtto Gut;otto@alpha.example;;\n"
	resp, body := e.postFile("/o/alpha/import/contacts", "kontakte.csv", []byte(bad), map[string]string{"Accept-Language": "de"})
	if resp.StatusCode != 422 {
		t.Fatalf("bad file: %d", resp.StatusCode)
	}
	problems := doc(t, body).Find(`[data-testid="import-problems"] li`)
	if problems.Length() != 1 || !strings.Contains(problems.Text(), "Line 3, E-mail:") || !strings.Contains(problems.Text(), "e-mail address") {
		t.Fatalf("problems: %q", problems.Text())
	}
	if count() != before {
		t.Fatal("a refused import stored lines")
	}
	good := strings.Replace(bad, "kein-at-zeichen", "max@alpha.example", 1)
	resp, body = e.postFile("/o/alpha/import/contacts", "kontakte.csv", []byte(good), nil)
	if resp.StatusCode != 200 || count() != before {
		t.Fatalf("good file: %d, want its preview and nothing stored yet", resp.StatusCode)
	}
	if resp = e.confirmImport("/o/alpha/import/contacts", body); resp.StatusCode != 303 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if count() != before+3 {
		t.Fatalf("imported %d, want 3", count()-before)
	}
	// English names, commas, a secret column: sealed on import.
	pw := "name,username,password,category\nImported NAS,root,CSV-MARKER-99,Device\n"
	resp, body = e.postFile("/o/alpha/import/passwords", "pw.csv", []byte(pw), nil)
	if resp.StatusCode != 200 || strings.Contains(body, "CSV-MARKER-99") {
		t.Fatalf("password import preview: %d (or it shows the password) %.300s", resp.StatusCode, body)
	}
	if raw, _ := os.ReadFile(e.db.Path + "-wal"); bytes.Contains(raw, []byte("CSV-MARKER-99")) {
		t.Fatal("previewed file stored in the clear")
	}
	if resp = e.confirmImport("/o/alpha/import/passwords", body); resp.StatusCode != 303 {
		t.Fatalf("password import: %d", resp.StatusCode)
	}
	raw, _ := os.ReadFile(e.db.Path + "-wal")
	if bytes.Contains(raw, []byte("CSV-MARKER-99")) {
		t.Fatal("imported secret stored in the clear")
	}
	// Unknown columns and non-UTF-8 files are refused before anything is read.
	for _, file := range []string{"name,colour\nx,blue\n", "name\n\xff\xfe\n", "notes\nno name column\n", ""} {
		if resp, _ := e.postFile("/o/alpha/import/contacts", "x.csv", []byte(file), nil); resp.StatusCode != 422 {
			t.Errorf("%q: %d", file, resp.StatusCode)
		}
	}
	// Customers cannot import.
	f.as(f.mgr)
	if resp, _ := e.postFile("/o/alpha/import/contacts", "x.csv", []byte(good), nil); resp.StatusCode != 404 {
		t.Fatalf("manager import: %d", resp.StatusCode)
	}
}
