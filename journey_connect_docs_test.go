package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portier/db"
	"portier/i18n"
	"portier/testkit"
)

// shoot checks the current page at desktop and phone width — no sideways scrolling, no serious
// accessibility violation — and saves a screenshot of each (to look at, and for a failed run's artifacts).
func shoot(t *testing.T, b *testkit.BrowserT, name string) {
	t.Helper()
	dir := filepath.Join(testkit.ArtifactsDir(), "screens")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1280, 390} {
		b.SetViewport(w, 900)
		// The handbook's tables may scroll sideways on a phone (TestJourneyEveryPage allows it too).
		if why := b.Overflow(); why != "" && !strings.HasPrefix(name, "handbook") {
			t.Errorf("%s at %d px scrolls sideways: %s", name, w, why)
		}
		for _, v := range b.AxeViolations() {
			t.Errorf("%s at %d px: accessibility %s (%s): %s", name, w, v.ID, v.Impact, v.Description)
		}
		b.Screenshot(filepath.Join(dir, name+"-"+strconv.Itoa(w)+".png"))
	}
	b.SetViewport(1280, 900)
}

// clickAndLoad clicks an element that leads to another page and waits until that page has loaded: the
// old document is marked first, so an element both pages share cannot be mistaken for the new page.
func clickAndLoad(t *testing.T, b *testkit.BrowserT, sel string) {
	t.Helper()
	testkit.Eval[chromedp.Void](b, `window.__oldPage = true`)
	b.Click(sel)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Context(), 2*time.Second)
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__oldPage === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && fresh {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new page after clicking %s", sel)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// customFieldName reads the stored name (cf_<id>) of the custom field with this label from the portal's
// database, as a second process would.
func customFieldName(t *testing.T, p *portier, label string) string {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var id int64
	if err := d.R.QueryRow(`SELECT id FROM custom_fields WHERE label = ? AND deleted_at IS NULL`, label).Scan(&id); err != nil {
		t.Fatalf("custom field %q: %v", label, err)
	}
	return "cf_" + strconv.FormatInt(id, 10)
}

// Issue 13, documents, custom fields and what expires next, in German and in English: an administrator
// adds custom fields and writes an emergency procedure (with hostile Markdown) and a staff-only note, and
// records a licence; the customer finds the procedure (not the note), the custom column and secret, the
// licence in the 30-day overview and the procedure in the handbook.
func TestJourneyDocumentsCustomFieldsExpiry(t *testing.T) {
	p := startPortier(t, nil)
	admin := seedPerson(t, p, "admin@msp.example", "Ada Admin", "admin", 0, "", 1)
	texts := map[string]struct {
		tag, bios, folder, title, staffTitle, licence, columnWindow, emergency, expiryTitle, kind, inDays string
	}{
		"de": {"Inventarnummer", "BIOS-Passwort", "Notfall", "Internet ist ausgefallen", "Interne Wartungsnotiz", "Microsoft 365 Lizenzen",
			"Nächste 30 Tage", "Notfallanleitungen", "Was läuft bald ab", "Lizenz", "in 10 Tagen"},
		"en": {"Asset tag", "BIOS password", "Emergency", "The internet is down", "Internal maintenance note", "Microsoft 365 licences",
			"Next 30 days", "Emergency procedures", "What expires next", "Licence", "in 10 days"},
	}
	// The admin's calendar: new accounts live in Europe/Berlin, where the day starts before it does in UTC.
	berlin, err := time.LoadLocation(i18n.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	a := testkit.Browser(t)
	signInWithApp(t, a, p.BaseURL, admin)
	for i, lang := range []string{"de", "en"} {
		tx := texts[lang]
		slug := "alpha-" + lang
		if out, err := p.cmd(t, "org", "create", "--name", "Alpha "+strings.ToUpper(lang), "--slug", slug); err != nil {
			t.Fatalf("org create: %v %s", err, out)
		}
		d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
		if err != nil {
			t.Fatal(err)
		}
		org, err := d.OrgBySlug(context.Background(), slug)
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		viewer := seedPerson(t, p, "vera-"+lang+"@alpha.example", "Vera "+lang, "", org.ID, "viewer", byte(100+i*30))
		base := p.BaseURL + "/o/" + slug

		// The administrator, in the journey's language: two custom fields for configurations.
		a.Navigate(p.BaseURL + "/staff/fields")
		clickAndLoad(t, a, `[data-testid="lang-`+lang+`"]`)
		a.WaitVisible(`[data-testid="custom-fields"]`)
		a.SetValue("#cf-label", tx.tag)
		testkit.Eval[chromedp.Void](a, `document.querySelector("#cf-kind").value = "text"`)
		a.Click(`[data-testid="cf-in-list"]`)
		clickAndLoad(t, a, `[data-testid="field-save"]`)
		a.WaitVisible(`[data-testid="fields-table"]`)
		a.SetValue("#cf-label", tx.bios)
		testkit.Eval[chromedp.Void](a, `document.querySelector("#cf-kind").value = "secret"`)
		clickAndLoad(t, a, `[data-testid="field-save"]`)
		a.WaitVisible(`[data-testid="fields-table"]`)
		if html := a.HTML(); !strings.Contains(html, tx.tag) || !strings.Contains(html, tx.bios) {
			t.Fatal("custom fields not listed")
		}
		a.Axe()
		shoot(t, a, "fields-"+lang)
		tag, bios := customFieldName(t, p, tx.tag), customFieldName(t, p, tx.bios)
		fillNew(t, a, base, "configurations", map[string]string{"name": "NB-" + lang, tag: "INV-" + lang + "-0042", bios: "Bios-Geheim-" + lang}, map[string]string{"kind": "laptop"})

		// An emergency procedure whose Markdown tries to run script, and a staff-only note.
		a.Navigate(base + "/articles/new")
		a.SetValue("#a-title", tx.title)
		a.SetValue("#a-folder", tx.folder)
		a.SetValue("#a-body", "## 1. Router\n\nFirewall neu starten.\n\n<script>window.__pwned = 1</script>\n\n<img src=x onerror=\"window.__pwned = 3\">\n\n[Störung melden](javascript:window.__pwned=2)\n\n[Telekom](https://www.telekom.de/hilfe)\n")
		a.Click(`[data-testid="emergency-check"]`)
		clickAndLoad(t, a, `[data-testid="article-preview"]`)
		a.WaitVisible(`[data-testid="article-preview-body"]`)
		clickAndLoad(t, a, `[data-testid="article-save"]`)
		a.WaitVisible(`[data-testid="article"]`)
		a.Navigate(base + "/articles/new")
		a.SetValue("#a-title", tx.staffTitle)
		a.SetValue("#a-body", "Nur intern.")
		a.Click(`[data-testid="staff-only-check"]`)
		clickAndLoad(t, a, `[data-testid="article-save"]`)
		a.WaitVisible(`[data-testid="article"]`)

		// A licence that ends in 10 days.
		a.Navigate(base + "/expiry")
		testkit.Eval[chromedp.Void](a, `document.querySelector("#x-kind").value = "licence"`)
		a.SetValue("#x-name", tx.licence)
		a.SetValue("#x-date", time.Now().In(berlin).AddDate(0, 0, 10).Format("2006-01-02")) // the person's calendar
		clickAndLoad(t, a, `[data-testid="expiry-add-submit"]`)
		a.WaitVisible(`[data-testid="expiry-table"]`)

		// The customer.
		c := testkit.Browser(t)
		signInWithApp(t, c, p.BaseURL, viewer)
		c.Navigate(base + "/articles")
		clickAndLoad(t, c, `[data-testid="lang-`+lang+`"]`)
		c.WaitVisible(`[data-testid="article-list"]`)
		if html := c.HTML(); !strings.Contains(html, tx.title) || strings.Contains(html, tx.staffTitle) || !strings.Contains(html, tx.folder) {
			t.Fatalf("%s: customer's document list wrong", lang)
		}
		c.Axe()
		shoot(t, c, "articles-"+lang)
		clickAndLoad(t, c, `[data-testid="article-link"]`)
		c.WaitVisible(`[data-testid="article-body"] h2`)
		c.Axe()
		shoot(t, c, "article-"+lang)
		// The script tag and the image's handler would have run by now; the javascript: link is plain text.
		if pwned := testkit.Eval[bool](c, `window.__pwned !== undefined`); pwned {
			t.Fatalf("%s: the document ran script", lang)
		}
		if n := testkit.Eval[int](c, `document.querySelectorAll('[data-testid="article-body"] script, [data-testid="article-body"] img, [data-testid="article-body"] a:not([href^="https:"])').length`); n != 0 {
			t.Fatalf("%s: %d hostile elements in the document", lang, n)
		}
		if rel := testkit.Eval[string](c, `document.querySelector('[data-testid="article-body"] a[href^="https"]').rel`); rel != "noopener noreferrer" {
			t.Errorf("%s: link rel %q", lang, rel)
		}
		c.Navigate(base + "/docs/configurations")
		if got := c.Text(`[data-testid="doc-list"]`); !strings.Contains(got, tx.tag) || !strings.Contains(got, "INV-"+lang+"-0042") {
			t.Errorf("%s: list lacks the custom column: %s", lang, got)
		}
		clickAndLoad(t, c, `[data-testid="row-link"]`)
		c.WaitVisible(`[data-testid="reveal-` + bios + `"]`)
		if strings.Contains(c.HTML(), "Bios-Geheim-"+lang) {
			t.Fatalf("%s: the custom secret is on the page before it was asked for", lang)
		}
		c.Click(`[data-testid="reveal-` + bios + `"]`)
		c.WaitVisible(`[data-testid="secret-value-` + bios + `"]`)
		if got := c.Text(`[data-testid="secret-value-` + bios + `"]`); !strings.Contains(got, "Bios-Geheim-"+lang) {
			t.Errorf("%s: revealed %q", lang, got)
		}
		shoot(t, c, "custom-field-"+lang)
		c.Navigate(base + "/expiry")
		clickAndLoad(t, c, `[data-testid="area-expiry"]`)
		c.WaitVisible(`[data-testid="expiry"]`)
		c.Navigate(base + "/expiry?window=30")
		got := c.Text(`[data-testid="expiry"]`)
		for _, want := range []string{tx.expiryTitle, tx.columnWindow, tx.licence, tx.kind, tx.inDays} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: overview lacks %q:\n%s", lang, want, got)
			}
		}
		c.Axe()
		shoot(t, c, "expiry-"+lang)
		c.Navigate(base + "/handbook")
		got = c.Text(`[data-testid="handbook"]`)
		if !strings.Contains(got, tx.emergency) || !strings.Contains(got, tx.title) || strings.Contains(got, tx.staffTitle) || !strings.Contains(got, tx.tag) {
			t.Errorf("%s: handbook:\n%s", lang, got)
		}
		shoot(t, c, "handbook-"+lang)
	}
	// Staff's overview across organisations.
	a.Navigate(p.BaseURL + "/staff/expiry?window=30")
	if got := a.Text(`[data-testid="expiry"]`); !strings.Contains(got, "Alpha DE") || !strings.Contains(got, "Alpha EN") {
		t.Errorf("staff overview lacks an organisation:\n%s", got)
	}
	a.Axe()
	shoot(t, a, "staff-expiry-en")
}

// `portier demo` shows an emergency procedure in the demo organisation: in its documents, printable, and
// in the emergency handbook; and what expires next.
func TestJourneyDemoEmergencyProcedure(t *testing.T) {
	p := startPortier(t, nil)
	out, err := p.cmd(t, "demo")
	if err != nil {
		t.Fatalf("demo: %v %s", err, out)
	}
	admin := seedPerson(t, p, "admin@msp.example", "Ada Admin", "admin", 0, "", 1)
	b := testkit.Browser(t)
	signInWithApp(t, b, p.BaseURL, admin)
	b.Navigate(p.BaseURL + "/o/muster/articles")
	clickAndLoad(t, b, `[data-testid="lang-de"]`)
	b.WaitVisible(`[data-testid="article-list"]`)
	if html := b.HTML(); !strings.Contains(html, "Internet ist ausgefallen") || !strings.Contains(html, "Onboarding neuer Mitarbeiter") {
		t.Fatal("demo documents missing")
	}
	// From the organisation's start page, one tap to the procedure.
	b.Navigate(p.BaseURL + "/o/muster")
	if got := b.Text(`[data-testid="org-emergency"]`); !strings.Contains(got, "Internet ist ausgefallen") {
		t.Fatalf("start page emergency procedures: %q", got)
	}
	shoot(t, b, "demo-home-de")
	clickAndLoad(t, b, `[data-testid="org-emergency-link"]`)
	b.WaitVisible(`[data-testid="article-body"] table`)
	if testkit.Eval[bool](b, `document.querySelector('[data-testid="article-print"]').hidden`) {
		t.Error("print button hidden with script available")
	}
	shoot(t, b, "demo-procedure-de")
	b.Navigate(p.BaseURL + "/o/muster/handbook")
	if got := b.Text(`[data-testid="handbook-procedures"]`); !strings.Contains(got, "Internet ist ausgefallen") || !strings.Contains(got, "0800 330 1172") {
		t.Errorf("handbook procedures: %s", got)
	}
	b.Navigate(p.BaseURL + "/o/muster/expiry?window=30")
	if got := b.Text(`[data-testid="expiry"]`); !strings.Contains(got, "Microsoft 365 Business Standard") || !strings.Contains(got, "Internetanschluss Telekom") {
		t.Errorf("demo expiry overview: %s", got)
	}
}
