package main

import (
	"context"
	"database/sql"
	"encoding/base32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/testkit"
)

const docsJourneyPassword = "Dokumente-Sicher#2026"

// journeyPerson is someone who finished the first login: password set, terms accepted, an authenticator
// app enrolled with a known secret.
type journeyPerson struct {
	Email, Name string
	Secret      string // base32 TOTP secret
}

// seedPerson creates a person in the running portal's database (through a second connection, as a second
// process would) so that a journey can start at the sign-in page.
func seedPerson(t *testing.T, p *portier, email, name, staffRole string, orgID int64, orgRole string, secretByte byte) journeyPerson {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key, err := db.LoadOrCreateKey(filepath.Join(p.DataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := db.NewSealer(key)
	phc, err := auth.NewHasher(1).Hash(ctx, docsJourneyPassword)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 20)
	for i := range secret {
		secret[i] = secretByte + byte(i)
	}
	terms, err := d.CurrentTerms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		id, _, err := db.EnsureUser(ctx, tx, now, email, name, "en")
		if err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, now, id, phc); err != nil {
			return err
		}
		if err := db.SetStaffRole(ctx, tx, id, staffRole); err != nil {
			return err
		}
		if orgID != 0 {
			if err := db.SetMembership(ctx, tx, now, id, orgID, orgRole); err != nil {
				return err
			}
		}
		if err := db.AcceptTerms(ctx, tx, now, id, terms.Version, "127.0.0.1"); err != nil {
			return err
		}
		if _, err := db.AddTOTP(ctx, tx, sealer, now, id, "Phone", secret, 0); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE users SET setup_shown = 1 WHERE id = ?`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return journeyPerson{Email: email, Name: name, Secret: base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)}
}

// signInWithApp signs in through the real pages: e-mail and password, then the code of the authenticator app.
func signInWithApp(t *testing.T, b *testkit.BrowserT, base string, who journeyPerson) {
	t.Helper()
	b.Navigate(base + "/login")
	b.SetValue("#email", who.Email)
	b.SetValue("#password", docsJourneyPassword)
	b.Click(`[data-testid="login-submit"]`)
	b.WaitVisible("#code")
	code, err := totp.GenerateCode(who.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.SetValue("#code", code)
	b.Click(`[data-testid="mfa-submit"]`)
	b.WaitGone("#code")
}

// fillNew opens an area's "new entry" form, fills it and saves.
func fillNew(t *testing.T, b *testkit.BrowserT, base, area string, values map[string]string, selects map[string]string, checks ...string) {
	t.Helper()
	b.Navigate(base + "/docs/" + area + "/new")
	for name, v := range values {
		b.SetValue("#f-"+name, v)
	}
	for name, v := range selects {
		testkit.Eval[chromedp.Void](b, `document.querySelector("#f-`+name+`").value = "`+v+`"`)
	}
	for _, sel := range checks {
		b.Click(sel)
	}
	b.Click(`[data-testid="doc-save"]`)
	b.WaitVisible(`[data-testid="doc-detail"]`)
}

// The documentation journey of issue 5: staff document every area, a customer sees what is theirs,
// reveals and copies secrets, and the customer's manager sees those accesses in the log.
func TestJourneyDocumentation(t *testing.T) {
	p := startPortier(t, nil)
	out, err := p.cmd(t, "org", "create", "--name", "Alpha GmbH", "--slug", "alpha")
	if err != nil {
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
	tech := seedPerson(t, p, "tech@msp.example", "Toni Technik", "technician", 0, "", 1)
	mgr := seedPerson(t, p, "petra@alpha.example", "Petra Manager", "", org.ID, "manager", 50)
	viewer := seedPerson(t, p, "vera@alpha.example", "Vera Viewer", "", org.ID, "viewer", 100)
	base := p.BaseURL + "/o/alpha"

	// Staff: one entry in each area, secrets included, one password staff-only.
	b := testkit.Browser(t)
	signInWithApp(t, b, p.BaseURL, tech)
	fillNew(t, b, base, "configurations", map[string]string{"name": "FW-01", "ip": "192.168.1.1"}, map[string]string{"kind": "firewall"})
	fillNew(t, b, base, "contacts", map[string]string{"name": "Anna Kontakt", "email": "anna@alpha.example", "phone": "+49 30 123456"}, nil)
	fillNew(t, b, base, "passwords", map[string]string{"name": "NAS admin", "username": "admin", "password": "Nas-Geheim-4711"}, nil)
	fillNew(t, b, base, "passwords", map[string]string{"name": "Domain admin", "password": "Domain-Geheim-0815"}, nil, `[data-testid="staff-only-check"]`)
	fillNew(t, b, base, "wireless", map[string]string{"name": "Alpha-WLAN", "key": "Wlan-Schluessel-2026"}, map[string]string{"security": "wpa2"})
	fillNew(t, b, base, "vpn", map[string]string{"name": "Homeoffice", "config": "[Interface]\nPrivateKey = abc\n"}, map[string]string{"kind": "wireguard"})
	if got := b.Text(`[data-testid="count-passwords"]`); got != "2" {
		t.Fatalf("staff count of passwords: %q", got)
	}
	b.Axe() // a detail page
	b.Navigate(base + "/docs/configurations/new")
	b.Axe()
	b.Navigate(base + "/docs/passwords")
	b.Axe()

	// A customer of the organisation.
	c := testkit.Browser(t)
	signInWithApp(t, c, p.BaseURL, viewer)
	c.Navigate(base)
	c.Axe()
	want := map[string]string{"configurations": "1", "contacts": "1", "passwords": "1", "wireless": "1", "vpn": "1"}
	for area, n := range want {
		if got := c.Text(`[data-testid="count-` + area + `"]`); got != n {
			t.Errorf("customer count %s = %q, want %s", area, got, n)
		}
	}
	c.Navigate(base + "/docs/passwords")
	if html := c.HTML(); strings.Contains(html, "Domain admin") || !strings.Contains(html, "NAS admin") {
		t.Fatal("customer list shows the staff-only password (or misses the visible one)")
	}
	// Reveal the Wi-Fi key, and see the join QR code.
	c.Navigate(base + "/docs/wireless")
	c.Click(`[data-testid="row-link"]`)
	c.WaitVisible(`[data-testid="reveal-key"]`)
	if strings.Contains(c.HTML(), "Wlan-Schluessel-2026") {
		t.Fatal("the key is on the page before it was asked for")
	}
	c.Click(`[data-testid="reveal-key"]`)
	c.WaitVisible(`[data-testid="secret-value-key"]`)
	if got := c.Text(`[data-testid="secret-value-key"]`); !strings.Contains(got, "Wlan-Schluessel-2026") {
		t.Fatalf("revealed key: %q", got)
	}
	c.Click(`[data-testid="show-qr"]`)
	c.WaitVisible(`[data-testid="qr"] img`)
	if src := testkit.Eval[string](c, `document.querySelector('[data-testid="qr"] img').src`); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("QR image: %.40s", src)
	}
	// Copy a password to the clipboard.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(c.Context(), browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSetting("granted"),
			Origin:     p.BaseURL,
		}); err != nil {
			t.Fatalf("clipboard permission: %v", err)
		}
	}
	c.Navigate(base + "/docs/passwords")
	c.Click(`[data-testid="row-link"]`)
	c.WaitVisible(`[data-testid="copy-password"]`)
	c.Click(`[data-testid="copy-password"]`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		clip := testkit.Eval[string](c, `navigator.clipboard.readText()`)
		if clip == "Nas-Geheim-4711" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clipboard holds %q", clip)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The manager sees who revealed and copied what, with names and times.
	m := testkit.Browser(t)
	signInWithApp(t, m, p.BaseURL, mgr)
	m.Navigate(base + "/audit")
	m.Axe()
	log := m.Text("main")
	for _, wantText := range []string{"Vera Viewer", "Secret shown", "Secret copied", "Alpha-WLAN", "NAS admin", "Toni Technik", "Entry created"} {
		if !strings.Contains(log, wantText) {
			t.Errorf("access log lacks %q:\n%s", wantText, log)
		}
	}
	if strings.Contains(log, "Domain admin") {
		t.Error("access log names the staff-only item to the customer")
	}
	// The copy's time as the manager reads it: in their calendar (Europe/Berlin) and language. Before, the
	// test looked for this year or today's date as the machine counts them (UTC), which the page does not
	// show between midnight in Berlin and midnight in UTC when that starts a new day (on New Year's Eve
	// both).
	d, err = db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	copies, err := d.AuditList(context.Background(), db.AuditFilter{OrgID: org.ID, Action: "docs.copy", ActionExact: true, Limit: 1})
	d.Close()
	bundle, berr := i18n.Load()
	if err != nil || berr != nil || len(copies) != 1 {
		t.Fatalf("the copy's entry: %v %v %d", err, berr, len(copies))
	}
	if at := bundle.For("en", "").DateTime(copies[0].At); !strings.Contains(log, at) {
		t.Errorf("access log lacks the copy's time %q:\n%s", at, log)
	}
}
