package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
)

// lang switches the signed-in person's language, as the switch in the header does.
func (e *testEnv) lang(l string) {
	e.t.Helper()
	if resp, _ := e.post("/lang", url.Values{"lang": {l}}, nil); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("language %s: %d", l, resp.StatusCode)
	}
}

func configCount(t *testing.T, e *testEnv, org int64) int {
	t.Helper()
	n, err := e.db.DocCounts(context.Background(), db.DocScope{OrgID: org, StaffView: true})
	if err != nil {
		t.Fatal(err)
	}
	return n["configurations"]
}

// A refused import says how to fix each line: the value as written, and for a date the accepted forms,
// for a choice every accepted option (in the viewer's language); never the value of a secret. German
// dates are accepted.
func TestCSVImportErrorsNameTheValueAndWhatIsAllowed(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	for _, tc := range []struct {
		lang, file string
		want       []string
	}{
		{"en", "name,kind,warranty_end\nNAS,server,31.03.2027\nRouter,Routerr,2027-03-31\nSwitch,switch,31.13.2027\n", []string{
			"Line 3, Kind:", "“Routerr”", "Allowed: Server, Workstation, Laptop, Firewall, Switch, Access point, Printer, Phone, Other.",
			"Line 4, Warranty until:", "“31.13.2027”", "DD.MM.YYYY or YYYY-MM-DD",
		}},
		{"de", "Name;Art;Garantie bis\nNAS;Server;31.03.2027\nRouter;Routerr;2027-03-31\nSwitch;Switch;31.13.2027\n", []string{
			"Zeile 3, Art:", "„Routerr“", "Erlaubt: Server, Arbeitsplatz-PC,",
			"Zeile 4, Garantie bis:", "„31.13.2027“", "TT.MM.JJJJ oder JJJJ-MM-TT",
		}},
	} {
		e.lang(tc.lang)
		resp, body := e.postFile("/o/alpha/import/configurations", "x.csv", []byte(tc.file), nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d", tc.lang, resp.StatusCode)
		}
		problems := doc(t, body).Find(`[data-testid="import-problems"] li`)
		if problems.Length() != 2 {
			t.Fatalf("%s: %d problems, want 2 (the German date on line 2 is fine): %q", tc.lang, problems.Length(), problems.Text())
		}
		text := strings.Join(strings.Fields(problems.Text()), " ")
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the problems do not say %q:\n%s", tc.lang, w, text)
			}
		}
	}
	// A refused secret is named by its column, never shown.
	e.lang("en")
	_, body := e.postFile("/o/alpha/import/passwords", "x.csv", []byte("name,totp\nM365,SECRET-NOT-BASE32-0815\n"), nil)
	if !strings.Contains(body, "Line 2, One-time code (TOTP):") || strings.Contains(body, "SECRET-NOT-BASE32-0815") {
		t.Fatalf("secret problem: %.2000s", body)
	}
}

// The template files carry the area's columns in either language, separated as that language's
// spreadsheets expect, and a filled-in template imports.
func TestCSVImportTemplatesPerLanguage(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	_, page := e.get("/o/alpha/import/configurations", nil)
	if n := doc(t, page).Find(`[data-testid="import-template"]`).Length(); n != 2 {
		t.Fatalf("%d template links, want 2", n)
	}
	resp, de := e.get("/o/alpha/import/configurations/template?lang=de", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "configurations-vorlage.csv") {
		t.Fatalf("German template: %d %v", resp.StatusCode, resp.Header)
	}
	if de != "\ufeffName;Art;Hersteller;Modell;Seriennummer;IP-Adressen;MAC-Adressen;Betriebssystem;Standort;Garantie bis;Notizen\n" {
		t.Fatalf("German template: %q", de)
	}
	_, en := e.get("/o/alpha/import/passwords/template?lang=en", nil)
	if en != "\ufeffName,Category,User name,Password,URL,One-time code (TOTP),Notes\n" {
		t.Fatalf("English template: %q", en)
	}
	filled := de + "Drucker EG;Drucker;Brother;;;;;;Empfang;1.4.2028;\n"
	before := configCount(t, e, f.a.ID)
	_, body := e.postFile("/o/alpha/import/configurations", "vorlage.csv", []byte(filled), nil)
	if resp := e.confirmImport("/o/alpha/import/configurations", body); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("filled template: %d", resp.StatusCode)
	}
	if configCount(t, e, f.a.ID) != before+1 {
		t.Fatal("the filled template was not imported")
	}
	f.as(f.mgr)
	if resp, _ := e.get("/o/alpha/import/configurations/template?lang=de", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a customer gets the import template: %d", resp.StatusCode)
	}
}

// The preview shows what will be imported (secrets masked) and stores nothing; the confirmation imports
// every line once, also when it is sent many times at once, and only for the person who previewed it.
func TestCSVImportPreviewThenConfirmOnceRacing(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	e.lang("en")
	before := configCount(t, e, f.a.ID)
	file := "name,kind,warranty_end,ip\nNAS,server,31.03.2027,10.0.0.5\nCore switch,switch,,10.0.0.2\n"
	resp, body := e.postFile("/o/alpha/import/configurations", "x.csv", []byte(file), nil)
	if resp.StatusCode != 200 || configCount(t, e, f.a.ID) != before {
		t.Fatalf("preview: %d, or it stored something", resp.StatusCode)
	}
	p := doc(t, body).Find(`[data-testid="import-preview"]`)
	text := strings.Join(strings.Fields(p.Text()), " ")
	for _, w := range []string{"2 entries will be imported", "NAS", "Server", "31 Mar 2027", "Core switch", "10.0.0.2", "Import 2 entries"} {
		if !strings.Contains(text, w) {
			t.Errorf("preview lacks %q: %s", w, text)
		}
	}
	var cols []string
	p.Find("th").Each(func(_ int, th *goquery.Selection) { cols = append(cols, th.Text()) })
	if got := strings.Join(cols, "|"); got != "Name|Kind|IP addresses|Warranty until" {
		t.Errorf("preview columns %q: want the ones the file fills", got)
	}
	draft, _ := p.Find(`input[name="draft"]`).Attr("value")

	// Someone else (another technician) cannot confirm it.
	other := e.createUser("tina@msp.example", "Tina Technik", "technician", nil)
	f.as(other)
	if resp, _ := e.post("/o/alpha/import/configurations/confirm", url.Values{"draft": {draft}}, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("another person's confirmation: %d", resp.StatusCode)
	}
	f.as(f.tech)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := e.post("/o/alpha/import/configurations/confirm", url.Values{"draft": {draft}}, nil)
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		switch c {
		case http.StatusSeeOther:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("parallel confirmation: %d", c)
		}
	}
	if ok != 1 || configCount(t, e, f.a.ID) != before+2 {
		t.Fatalf("%d confirmations went through and %d items were added; want 1 and 2", ok, configCount(t, e, f.a.ID)-before)
	}
	if n := len(auditOf(t, e, f.a.ID, f.tech.ID, "docs.import")); n != 1 {
		t.Fatalf("%d import entries in the log, want 1", n)
	}
	// An hour later a preview can no longer be confirmed.
	_, body = e.postFile("/o/alpha/import/configurations", "x.csv", []byte(file), nil)
	e.clock.Advance(db.ImportDraftLifetime + 1)
	f.as(f.tech) // the session itself timed out meanwhile
	if resp := e.confirmImport("/o/alpha/import/configurations", body); resp.StatusCode != http.StatusConflict {
		t.Fatalf("expired preview: %d", resp.StatusCode)
	}
}

// German users get semicolons (what German Excel splits at), English users commas, both with a byte
// order mark; either can choose the other.
func TestCSVExportSeparatorPerLanguage(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	for _, tc := range []struct{ lang, query, header string }{
		{"de", "", "\ufeffName;Funktion / Titel;E-Mail;"},
		{"en", "", "\ufeffName,Role / title,E-mail,"},
		{"de", "?sep=comma", "\ufeffName,"},
		{"en", "?sep=semicolon", "\ufeffName;"},
	} {
		e.lang(tc.lang)
		resp, body := e.get("/o/alpha/export/contacts"+tc.query, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(body, tc.header) {
			t.Errorf("%s%s: %d %q", tc.lang, tc.query, resp.StatusCode, body[:min(len(body), 60)])
		}
	}
}
