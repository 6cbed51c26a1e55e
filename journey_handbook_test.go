package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portier/db"
	"portier/testkit"
)

// handbookWireGuard is a WireGuard configuration as a laptop needs it: its line breaks are its syntax.
const handbookWireGuard = "[Interface]\nPrivateKey = aGFuZGJvb2stcHJpdmF0ZS1rZXktZm9yLXRlc3Q0Mg==\nAddress = 10.8.0.2/32\nDNS = 10.8.0.1\n\n[Peer]\nPublicKey = aGFuZGJvb2stcHVibGljLWtleS1mb3ItdGVzdDQyNA==\nEndpoint = vpn.alpha.example:51820\nAllowedIPs = 10.8.0.0/24, 192.168.100.0/24\nPersistentKeepalive = 25"

// squash drops every space and line break, so a value that the PDF wraps still matches.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// The emergency handbook on paper: Chromium prints it on A4 and pdftotext reads the PDF back. Every
// field of a long item is on paper (nothing cut off at the page edge), every page names the organisation
// and the date, each area starts on a new page, the WireGuard configuration keeps its lines, and the
// page itself fits a phone's width.
func TestJourneyHandbookPrintsOnA4(t *testing.T) {
	p := startPortier(t, nil)
	if out, err := p.cmd(t, "org", "create", "--name", "Alpha GmbH", "--slug", "alpha"); err != nil {
		t.Fatalf("org create: %v %s", err, out)
	}
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	org, err := d.OrgBySlug(context.Background(), "alpha")
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	viewer := seedPerson(t, p, "vera@alpha.example", "Vera Viewer", "", org.ID, "viewer", 100)
	contact := seedDocs(t, p, db.DocChange{OrgID: org.ID, Area: "contacts", Name: "Max Mustermann",
		Fields: map[string]string{"phone": "+49 30 1234567", "email": "max@alpha.example"}})[0]
	notes := strings.Repeat("Bei Stromausfall zuerst die USV im Keller prüfen, dann die Firewall neu starten. ", 12) +
		"\nZweite Zeile: Notfallnummer des Providers 0800 123 456 78, Kundennummer KD-99887766."
	long := db.DocChange{OrgID: org.ID, Area: "configurations", Name: "Core-Firewall Hauptstandort Musterstraße 12 (Rack 3, HE 14)",
		Fields: map[string]string{
			"kind": "firewall", "manufacturer": "Sophos Technology GmbH", "model": "XGS 4300 mit erweitertem Supportvertrag",
			"serial": "SN-4711-0815-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ip": "192.168.100.1, 10.20.30.1, 2001:db8:85a3::8a2e:370:7334",
			"mac": "00:1A:2B:3C:4D:5E, 00:1A:2B:3C:4D:5F, 00:1A:2B:3C:4D:60, 00:1A:2B:3C:4D:61",
			"os":  "SFOS 21.0.1 MR-1 Build 237", "location": "Serverraum Keller, Rack 3, Höheneinheit 14",
			"contact": strconv.FormatInt(contact, 10), "warranty_end": "2027-03-31", "notes": notes,
		}}
	chs := []db.DocChange{long}
	for i := range 14 {
		chs = append(chs, db.DocChange{OrgID: org.ID, Area: "configurations", Name: fmt.Sprintf("Arbeitsplatz %02d", i+1),
			Fields: map[string]string{"kind": "workstation", "ip": fmt.Sprintf("192.168.1.%d", 20+i), "location": "Büro 1. OG"}})
	}
	chs = append(chs,
		db.DocChange{OrgID: org.ID, Area: "vpn", Name: "Laptop-Tunnel", Fields: map[string]string{"kind": "wireguard", "gateway": "vpn.alpha.example", "port": "51820"},
			Secrets: map[string]string{"config": handbookWireGuard}},
		db.DocChange{OrgID: org.ID, Area: "wireless", Name: "Alpha-WLAN", Fields: map[string]string{"security": "wpa2"},
			Secrets: map[string]string{"key": "Wlan-Schluessel-2026"}})
	seedDocs(t, p, chs...)

	b := testkit.Browser(t)
	signInWithApp(t, b, p.BaseURL, viewer)
	b.Navigate(p.BaseURL + "/o/alpha/handbook")
	b.WaitVisible(`[data-testid="handbook-print"]`) // the print button (shown by the page's script)

	// What the page shows of the long item, field by field: all eleven filled fields.
	type shown struct{ Label, Value string }
	fields := testkit.Eval[[]shown](b, `[...document.querySelectorAll('.hb-item')].find(e => e.querySelector('h3').textContent.startsWith('Core-Firewall'))
		.querySelectorAll('.hb-field').values().map(f => ({Label: f.querySelector('dt').textContent, Value: f.querySelector('dd').textContent})).toArray()`)
	if len(fields) != 11 {
		t.Fatalf("the long item shows %d fields, want 11: %+v", len(fields), fields)
	}
	pages := testkit.PDFPages(t, b.PrintToPDF())
	all := squash(strings.Join(pages, " "))
	if !strings.Contains(all, squash(long.Name)) {
		t.Error("the long item's name is not in the PDF")
	}
	for _, f := range fields {
		if !strings.Contains(all, squash(f.Label)) || !strings.Contains(all, squash(f.Value)) {
			t.Errorf("not in the printed PDF: %s = %q", f.Label, f.Value)
		}
	}
	for _, want := range []string{"Max Mustermann", "00:1A:2B:3C:4D:61", "KD-99887766", "Höheneinheit14"} {
		if !strings.Contains(all, squash(want)) {
			t.Errorf("not in the printed PDF: %q", want)
		}
	}
	if len(pages) < 5 {
		t.Fatalf("%d pages: want at least one per area (5)", len(pages))
	}
	for i, pg := range pages {
		if !strings.Contains(pg, "Emergency handbook: Alpha GmbH") || !strings.Contains(pg, "As of") {
			t.Errorf("page %d lacks the organisation or the date:\n%s", i+1, pg)
		}
	}
	// Each area starts on a page of its own: its heading is the first line after the running head.
	starts := 0
	for _, pg := range pages {
		for _, area := range []string{"Configurations", "Contacts", "Passwords", "Wireless", "VPN"} {
			if firstBody(pg) == area {
				starts++
			}
		}
	}
	if starts != 5 {
		t.Errorf("%d areas start a page, want 5", starts)
	}
	if strings.Contains(all, squash("Wlan-Schluessel-2026")) || strings.Contains(all, "PrivateKey") {
		t.Fatal("secrets printed without being asked for")
	}

	// With secrets (asked for, audited): the WireGuard configuration keeps its lines on screen and paper.
	b.Click(`[data-testid="handbook-secrets"]`)
	b.WaitVisible(`.hb-secret`)
	if got := testkit.Eval[string](b, `[...document.querySelectorAll('pre.hb-secret')].map(e => e.textContent).join('\n')`); !strings.Contains(got, handbookWireGuard) {
		t.Fatalf("the configuration lost its line breaks on screen: %q", got)
	}
	pages = testkit.PDFPages(t, b.PrintToPDF())
	text := strings.Join(pages, "\n")
	for _, line := range strings.Split(handbookWireGuard, "\n") {
		if line != "" && !strings.Contains(text, line) {
			t.Errorf("WireGuard line not printed as a line of its own: %q", line)
		}
	}
	if !strings.Contains(text, "Wlan-Schluessel-2026") {
		t.Error("the Wi-Fi key is missing from the handbook with secrets")
	}
	if n := auditCount(t, p, org.ID, "Vera Viewer", "docs.handbook_reveal", ":vpn.config:Laptop-Tunnel"); n != 1 {
		t.Errorf("printed WireGuard configuration: %d audit entries, want 1", n)
	}
	saveHandbookShots(t, b, p.BaseURL+"/o/alpha/handbook", "en")

	// German: the running head in German on every page, and the page fits 390 px.
	b.Click(`[data-testid="lang-de"]`)
	b.WaitVisible(`html[lang="de"]`)
	b.Navigate(p.BaseURL + "/o/alpha/handbook")
	for i, pg := range testkit.PDFPages(t, b.PrintToPDF()) {
		if !strings.Contains(pg, "Notfallhandbuch: Alpha GmbH") || !strings.Contains(pg, "Stand:") {
			t.Errorf("German page %d lacks the organisation or the date", i+1)
		}
	}
	for _, w := range []int64{390, 1280} {
		b.Do(chromedp.EmulateViewport(w, 844))
		b.Navigate(p.BaseURL + "/o/alpha/handbook")
		if wide := testkit.Eval[bool](b, `document.querySelector('.handbook').scrollWidth > window.innerWidth`); wide {
			t.Errorf("the handbook is wider than the window at %d px", w)
		}
	}
	b.Axe()
	saveHandbookShots(t, b, p.BaseURL+"/o/alpha/handbook", "de")
}

// firstBody is the first line of a printed page that is not the running head (organisation and date)
// or the handbook's title.
func firstBody(page string) string {
	for _, l := range strings.Split(page, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.Contains(l, "Alpha GmbH") && !strings.HasPrefix(l, "As of") && !strings.HasPrefix(l, "Stand:") {
			return l
		}
	}
	return ""
}

// saveHandbookShots keeps screenshots at both widths and the PDF when PORTIER_SHOTS is set (a folder),
// for a person to look at.
func saveHandbookShots(t *testing.T, b *testkit.BrowserT, url, lang string) {
	dir := os.Getenv("PORTIER_SHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int64{1280, 390} {
		b.Do(chromedp.EmulateViewport(w, 844))
		b.Navigate(url)
		b.Screenshot(filepath.Join(dir, fmt.Sprintf("handbook-%s-%d.png", lang, w)))
	}
	if err := os.WriteFile(filepath.Join(dir, "handbook-"+lang+".pdf"), b.PrintToPDF(), 0o644); err != nil {
		t.Fatal(err)
	}
}
