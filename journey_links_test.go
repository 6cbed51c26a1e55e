package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portier/db"
	"portier/i18n"
	"portier/testkit"
)

// demoItem finds an item of the demo organisation by name (staff view).
func demoItem(t *testing.T, p *portier, orgID int64, area, name string) int64 {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	items, err := d.DocAll(context.Background(), orgID, area)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Name == name {
			return it.ID
		}
	}
	t.Fatalf("demo has no %s %q", area, name)
	return 0
}

// relatedText is what the related entries section of the page says.
func relatedText(b *testkit.BrowserT) string {
	return testkit.Eval[string](b, `(document.querySelector('[data-testid="related"]') || {innerText: ""}).innerText`)
}

// fetchSHA256 downloads a URL inside the page (the browser's session) and returns the SHA-256 of the bytes.
func fetchSHA256(b *testkit.BrowserT, href string) string {
	return testkit.Eval[string](b, `fetch(`+"`"+href+"`"+`).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(b => crypto.subtle.digest("SHA-256", b))
		.then(h => Array.from(new Uint8Array(h)).map(x => x.toString(16).padStart(2, "0")).join(""))`)
}

func switchLang(b *testkit.BrowserT, lang string) {
	if testkit.Eval[string](b, `document.documentElement.lang`) != lang {
		b.Click(`[data-testid="lang-` + lang + `"]`)
		b.WaitVisible(`html[lang="` + lang + `"]`)
	}
}

// Issue 13's morning: the demo organisation's firewall is one tap from the provider's hotline and the
// contract PDF. Staff link a password to the firewall by typing its name and see the link from both
// sides, attach a staff-only configuration backup; the customer sees the links and the contract (bytes
// identical when downloaded), never the staff-only VPN or file, and the manager reads the download in the
// access log. In English and in German; screenshots of the detail page at 1280 and 390 pixels.
func TestJourneyRelatedItemsAndFiles(t *testing.T) {
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, lang := range journeyLangs() {
		t.Run(lang, func(t *testing.T) {
			l := bundle.For(lang, "")
			p := startPortier(t, nil)
			out, err := p.cmd(t, "demo")
			if err != nil || !strings.Contains(out, "muster") {
				t.Fatalf("demo: %v %s", err, out)
			}
			d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
			if err != nil {
				t.Fatal(err)
			}
			org, err := d.OrgBySlug(context.Background(), "muster")
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			tech := seedPerson(t, p, "tech@msp.example", "Toni Technik", "technician", 0, "", byte(1+i))
			viewer := seedPerson(t, p, "jonas@muster.example", "Jonas Weber", "", org.ID, "viewer", byte(60+i))
			mgr := seedPerson(t, p, "petra@muster.example", "Petra Muster", "", org.ID, "manager", byte(120+i))
			base := p.BaseURL + "/o/muster/docs"
			fw := fmt.Sprintf("%s/configurations/%d", base, demoItem(t, p, org.ID, "configurations", "FW-01"))
			m365 := fmt.Sprintf("%s/passwords/%d", base, demoItem(t, p, org.ID, "passwords", "Microsoft 365 Admin"))
			hotline := fmt.Sprintf("%s/contacts/%d", base, demoItem(t, p, org.ID, "contacts", "Telekom Geschäftskunden-Hotline"))
			shots := testkit.ArtifactsDir()
			os.MkdirAll(shots, 0o755)

			// Staff: the demo's links and contract are there; link the Microsoft 365 admin by typing.
			b := testkit.Browser(t)
			signInWithApp(t, b, p.BaseURL, tech)
			switchLang(b, lang)
			b.Navigate(fw)
			if got := b.Text(`#related-h`); got != l.T("links.title") {
				t.Fatalf("related heading %q", got)
			}
			if rel := relatedText(b); !strings.Contains(rel, "Telekom Geschäftskunden-Hotline") || !strings.Contains(rel, "Standort Hamburg (IPsec)") {
				t.Fatalf("staff sees related: %q", rel)
			}
			b.Click(`[data-testid="link-add"]`)
			b.WaitVisible(`[data-testid="picker-q"]`)
			b.Axe()
			b.SendKeys(`[data-testid="picker-q"]`, "Microsoft")
			b.WaitVisible(`[data-testid^="pick-"] input[type=radio]`)
			if got := b.Text(`[data-testid="pick-results"]`); !strings.Contains(got, "Microsoft 365 Admin") || strings.Contains(got, "FW-01") {
				t.Fatalf("picker results: %q", got)
			}
			b.SetValue(`[data-testid="picker-label"]`, "Notfall-Zugang")
			b.Click(`[data-testid="picker-submit"]`)
			b.WaitVisible(`[data-testid="doc-detail"]`)
			if rel := relatedText(b); !strings.Contains(rel, "Microsoft 365 Admin") || !strings.Contains(rel, "Notfall-Zugang") {
				t.Fatalf("after linking: %q", rel)
			}
			// The other side shows it too.
			b.Navigate(m365)
			if rel := relatedText(b); !strings.Contains(rel, "FW-01") || !strings.Contains(rel, "Notfall-Zugang") {
				t.Fatalf("other side: %q", rel)
			}
			// A document linked to the firewall by typing (the staff-only maintenance note), seen from both
			// sides; the demo's procedure is linked already.
			b.Navigate(fw)
			if rel := relatedText(b); !strings.Contains(rel, "Internet ist ausgefallen") || !strings.Contains(rel, "Firewall FW-01") ||
				!strings.Contains(rel, l.T("articles.title")) {
				t.Fatalf("firewall's documents: %q", rel)
			}
			b.Click(`[data-testid="link-add"]`)
			b.WaitVisible(`[data-testid="picker-q"]`)
			b.SendKeys(`[data-testid="picker-q"]`, "Wartungsfenster")
			b.WaitVisible(`[data-testid^="pick-d"] input[type=radio]`)
			b.Click(`[data-testid="picker-submit"]`)
			b.WaitVisible(`[data-testid="doc-detail"]`)
			note := testkit.Eval[string](b, `[...document.querySelectorAll('[data-testid^="related-d"] a')].find(a => a.innerText.includes("Wartungsfenster"))?.getAttribute("href") || ""`)
			proc := testkit.Eval[string](b, `[...document.querySelectorAll('[data-testid^="related-d"] a')].find(a => a.innerText.includes("Internet ist ausgefallen"))?.getAttribute("href") || ""`)
			if note == "" || proc == "" {
				t.Fatalf("linked documents on the firewall: %q", relatedText(b))
			}
			b.Navigate(p.BaseURL + note)
			b.WaitVisible(`[data-testid="article"]`)
			if rel := relatedText(b); !strings.Contains(rel, "FW-01") || !strings.Contains(rel, l.T("docs.area.configurations")) {
				t.Fatalf("the note's side: %q", rel)
			}
			// A file on the procedure, downloaded with the bytes it was uploaded with.
			protocol := filepath.Join(t.TempDir(), "stoerung-protokoll.txt")
			protocolBytes := []byte("07:02 Internet weg\n07:10 Hotline angerufen, Ticket 4711\n")
			os.WriteFile(protocol, protocolBytes, 0o600)
			b.Navigate(p.BaseURL + proc)
			b.Do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{protocol}))
			clickAndLoad(t, b, `[data-testid="upload-submit"]`)
			b.WaitVisible(`[data-testid="attachments"]`)
			if got := b.Text(`[data-testid="attachments"]`); !strings.Contains(got, "stoerung-protokoll.txt") || !strings.Contains(got, "Vertrag Internetanschluss Telekom.pdf") {
				t.Fatalf("procedure's files: %q", got)
			}
			sum := sha256.Sum256(protocolBytes)
			protoHref := testkit.Eval[string](b, `[...document.querySelectorAll('[data-testid="file-download"]')].find(a => a.innerText.includes("stoerung"))?.getAttribute("href") || ""`)
			if got := fetchSHA256(b, protoHref); got != hex.EncodeToString(sum[:]) {
				t.Fatalf("procedure file downloaded as %s", got)
			}
			shoot(t, b, "procedure-linked-"+lang)

			// A staff-only configuration backup on the firewall.
			backup := filepath.Join(t.TempDir(), "fw-01-backup.txt")
			os.WriteFile(backup, []byte("# Sophos XGS backup\nhostname FW-01\n"), 0o600)
			b.Navigate(fw)
			b.Click(`[data-testid="upload-staff-only"]`)
			b.Do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{backup}))
			b.Click(`[data-testid="upload-submit"]`)
			b.WaitVisible(`[data-testid="file-staff-only"]`)
			if got := b.Text(`[data-testid="attachments"]`); !strings.Contains(got, "fw-01-backup.txt") || !strings.Contains(got, "Vertrag Internetanschluss Telekom.pdf") {
				t.Fatalf("files: %q", got)
			}
			if got := b.Text(`#files-h`); got != l.T("files.title") {
				t.Fatalf("files heading %q", got)
			}
			b.Axe()
			for _, w := range []int64{1280, 390} {
				b.Do(chromedp.EmulateViewport(w, 900))
				b.Navigate(fw)
				b.Screenshot(filepath.Join(shots, fmt.Sprintf("links-detail-%s-%d.png", lang, w)))
				if testkit.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
					t.Errorf("%d px: the detail page scrolls sideways", w)
				}
				// The related entries and files stay inside the item's card.
				if over := testkit.Eval[bool](b, `(() => { const a = document.querySelector('[data-testid="doc-detail"]').getBoundingClientRect();
					return [...document.querySelectorAll('[data-testid="related"] *, [data-testid="attachments"] *')].some(e => e.getBoundingClientRect().right > a.right + 1) })()`); over {
					t.Errorf("%d px: related entries or files stick out of the card", w)
				}
			}
			b.Do(chromedp.EmulateViewport(1280, 900))
			// Staff's list: a checkbox per row for the bulk actions.
			b.Navigate(base + "/configurations")
			if n := testkit.Eval[int](b, `document.querySelectorAll('input[type=checkbox][form="bulk-form"]').length`); n != 8 {
				t.Fatalf("bulk checkboxes: %d", n)
			}
			b.Axe()
			b.Screenshot(filepath.Join(shots, fmt.Sprintf("links-list-%s-1280.png", lang)))

			// The customer: links and contract, no staff-only VPN or backup; the contract's bytes are the stored ones.
			c := testkit.Browser(t)
			signInWithApp(t, c, p.BaseURL, viewer)
			switchLang(c, lang)
			c.Navigate(fw)
			rel := relatedText(c)
			for _, want := range []string{"Telekom Geschäftskunden-Hotline", "Microsoft 365 Admin", "Homeoffice WireGuard", "Jonas Weber", "Notfall-Zugang",
				"Internet ist ausgefallen", "Firewall FW-01"} {
				if !strings.Contains(rel, want) {
					t.Errorf("customer misses %q in %q", want, rel)
				}
			}
			html := c.HTML()
			if strings.Contains(html, "Standort Hamburg") || strings.Contains(html, "fw-01-backup") || strings.Contains(html, "Wartungsfenster") {
				t.Fatal("the customer sees a staff-only related item or file")
			}
			c.Screenshot(filepath.Join(shots, fmt.Sprintf("links-detail-customer-%s-1280.png", lang)))
			href := testkit.Eval[string](c, `document.querySelector('[data-testid="file-download"]').getAttribute("href")`)
			got := fetchSHA256(c, href)
			stored := storedSHA256(t, p, org.ID, "Vertrag Internetanschluss Telekom.pdf")
			if got != stored {
				t.Fatalf("downloaded %s, stored %s", got, stored)
			}
			// The 7 a.m. story from the start page: the procedure, its contract (the stored bytes), the router
			// and its admin password, the hotline — each one tap from the others.
			c.Navigate(p.BaseURL + "/o/muster")
			clickAndLoad(t, c, `[data-testid="org-emergency-link"]`)
			c.WaitVisible(`[data-testid="article"]`)
			if rel := relatedText(c); !strings.Contains(rel, "FW-01") || !strings.Contains(rel, "Firewall FW-01") || !strings.Contains(rel, "Telekom Geschäftskunden-Hotline") {
				t.Fatalf("procedure's related: %q", rel)
			}
			pdfHref := testkit.Eval[string](c, `[...document.querySelectorAll('[data-testid="file-download"]')].find(a => a.innerText.includes("Vertrag"))?.getAttribute("href") || ""`)
			if pdfHref == "" || fetchSHA256(c, pdfHref) != stored {
				t.Fatalf("the procedure's contract %q is not the stored one", pdfHref)
			}
			clickAndLoad(t, c, `[data-testid="related"] a`) // configurations first: the router
			if c.Text(`[data-testid="doc-name"]`) != "FW-01" {
				t.Fatal("the procedure's first link does not lead to the router")
			}
			// Search finds the procedure, never the staff-only note.
			c.Navigate(p.BaseURL + "/o/muster/search?q=Wartungsfenster")
			if strings.Contains(c.HTML(), "Wartungsfenster und") {
				t.Fatal("the customer finds the staff-only document")
			}
			c.Navigate(p.BaseURL + "/o/muster/search?q=ausgefallen")
			if n := testkit.Eval[int](c, `document.querySelectorAll('[data-testid="search-results"] a[href="`+proc+`"]').length`); n != 1 {
				t.Fatal("search does not find the procedure")
			}

			// From the hotline's side: the firewall, one tap away.
			c.Navigate(hotline)
			if rel := relatedText(c); !strings.Contains(rel, "FW-01") {
				t.Fatalf("hotline's related: %q", rel)
			}
			c.Click(`[data-testid="related"] a`)
			c.WaitVisible(`[data-testid="doc-name"]`)
			if c.Text(`[data-testid="doc-name"]`) != "FW-01" {
				t.Fatal("the hotline's link does not lead to the firewall")
			}
			// One entry per download: the contract on the firewall and the one on the procedure.
			if n := auditCount(t, p, org.ID, "Jonas Weber", "docs.download", "(Vertrag Internetanschluss Telekom.pdf)"); n != 2 {
				t.Fatalf("download audit entries: %d", n)
			}

			// The manager's access log has the download, and nothing of the staff-only file.
			m := testkit.Browser(t)
			signInWithApp(t, m, p.BaseURL, mgr)
			switchLang(m, lang)
			m.Navigate(p.BaseURL + "/o/muster/audit")
			log := m.Text("main")
			if !strings.Contains(log, l.T("audit.docs.download")) || !strings.Contains(log, "Jonas Weber") || !strings.Contains(log, "Vertrag Internetanschluss Telekom.pdf") {
				t.Fatalf("access log:\n%s", log)
			}
			if strings.Contains(log, "fw-01-backup") || strings.Contains(log, "Standort Hamburg") {
				t.Fatalf("access log names staff-only things:\n%s", log)
			}
			for _, br := range []*testkit.BrowserT{b, c, m} {
				for _, line := range br.Console() {
					if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Refused") {
						t.Errorf("console: %s", line)
					}
				}
			}
		})
	}
}

// storedSHA256 reads an attachment of the organisation back from the database (through the sealer).
func storedSHA256(t *testing.T, p *portier, orgID int64, name string) string {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key, _ := db.LoadOrCreateKey(filepath.Join(p.DataDir, "secret.key"))
	sealer, _ := db.NewSealer(key)
	var item, id int64
	if err := d.R.QueryRow(`SELECT item_id, id FROM doc_attachments WHERE org_id = ? AND name = ? ORDER BY id LIMIT 1`, orgID, name).Scan(&item, &id); err != nil {
		t.Fatal(err)
	}
	a, err := d.AttachmentGet(ctx, db.DocScope{OrgID: orgID, StaffView: true}, item, id)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.AttachmentWrite(ctx, sealer, a, &buf); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// The demo's contract is a PDF a PDF reader opens (pdftotext reads its text).
func TestDemoContractPDFIsValid(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	path := filepath.Join(t.TempDir(), "c.pdf")
	os.WriteFile(path, contractPDF("Vertrag (Test)", []string{"Zeile eins", "Hotline: 0800 330 1172"}), 0o600)
	out, err := exec.Command(pdftotext, path, "-").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Vertrag (Test)") || !strings.Contains(string(out), "0800 330 1172") || strings.Contains(string(out), "Syntax") {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
}

// journeyLangs are the languages the journey runs in (PORTIER_JOURNEY_LANG narrows it while debugging).
func journeyLangs() []string {
	if l := os.Getenv("PORTIER_JOURNEY_LANG"); l != "" {
		return []string{l}
	}
	return []string{"en", "de"}
}
