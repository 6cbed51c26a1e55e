package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"portier/db"
	"portier/testkit"
)

// copyJourneySeed is a stored TOTP seed; the page must only ever copy its current code.
const copyJourneySeed = "JBSWY3DPEHPK3PXPKRUGS4ZAMJSWC5LU"

// seedDocs stores documentation in the running portal's database, as a second process would (before
// any page of the area was looked at, so no cached list is outdated).
func seedDocs(t *testing.T, p *portier, chs ...db.DocChange) []int64 {
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
	var ids []int64
	for _, ch := range chs {
		id, err := d.DocCreate(ctx, sealer, ch, db.DocActor{Name: "Setup"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// auditCount counts one person's entries of an action whose target ends with suffix ("area.field:name").
func auditCount(t *testing.T, p *portier, orgID int64, actor, action, suffix string) int {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	entries, err := d.AuditList(context.Background(), db.AuditFilter{OrgID: orgID, Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.ActorName == actor && e.Action == action && strings.HasSuffix(e.Target, suffix) {
			n++
		}
	}
	return n
}

func grantClipboard(t *testing.T, b *testkit.BrowserT, origin string) {
	t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(b.Context(), browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSetting("granted"),
			Origin:     origin,
		}); err != nil {
			t.Fatalf("clipboard permission: %v", err)
		}
	}
}

// Copying with the keyboard only, in real Chromium: a secret, the current one-time code (never the seed),
// the user name and an SSID land on the clipboard, the page says so, and the access log says "copied"
// for the secrets; where the clipboard refuses, the page says to use "show" instead and the log has the
// reveal (the secret did reach the browser) but no copy.
func TestJourneyDocsCopyClipboard(t *testing.T) {
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
	ids := seedDocs(t, p,
		db.DocChange{OrgID: org.ID, Area: "passwords", Name: "M365", Fields: map[string]string{"username": "admin@alpha.example"},
			Secrets: map[string]string{"password": "M365-Geheim-4711", "totp": copyJourneySeed}},
		db.DocChange{OrgID: org.ID, Area: "wireless", Name: "Alpha-WLAN", Fields: map[string]string{"security": "wpa2"},
			Secrets: map[string]string{"key": "Wlan-Schluessel-2026"}})
	base := p.BaseURL + "/o/alpha"
	item := base + "/docs/passwords/" + strconv.FormatInt(ids[0], 10)

	c := testkit.Browser(t)
	signInWithApp(t, c, p.BaseURL, viewer)
	grantClipboard(t, c, p.BaseURL)
	clip := func() string { return testkit.Eval[string](c, `navigator.clipboard.readText()`) }
	press := func(sel string) { c.SendKeys(sel, "\n") } // keyboard only: focus the button, press Enter

	// The password, after it was revealed: the copy button is still there.
	c.Navigate(item)
	c.Click(`[data-testid="reveal-password"]`)
	c.WaitVisible(`[data-testid="secret-value-password"]`)
	c.WaitVisible(`[data-testid="copy-password"]`)
	press(`[data-testid="copy-password"]`)
	waitFor(t, 5*time.Second, "password on the clipboard", func() bool { return clip() == "M365-Geheim-4711" })
	if got := c.Text(`[data-testid="copy-status-password"]`); got != "Copied" {
		t.Fatalf("status after copying: %q", got)
	}
	waitFor(t, 5*time.Second, "copy of the password in the log", func() bool {
		return auditCount(t, p, org.ID, "Vera Viewer", "docs.copy", "passwords.password:M365") == 1
	})
	// The current one-time code, never the seed; written as a ClipboardItem built from the pending fetch
	// (the way Safari allows), so writeText refusing changes nothing.
	testkit.Eval[chromedp.Void](c, `navigator.clipboard.writeText = () => Promise.reject(new DOMException("refused", "NotAllowedError"))`)
	press(`[data-testid="copy-totp"]`)
	waitFor(t, 5*time.Second, "a one-time code on the clipboard", func() bool { return len(clip()) == 6 })
	got := clip()
	now := time.Now()
	prev, _ := totp.GenerateCode(copyJourneySeed, now.Add(-30*time.Second))
	cur, _ := totp.GenerateCode(copyJourneySeed, now)
	if got != cur && got != prev {
		t.Fatalf("clipboard holds %q, not the current code", got)
	}
	waitFor(t, 5*time.Second, "copy of the code in the log", func() bool {
		return auditCount(t, p, org.ID, "Vera Viewer", "docs.copy", "passwords.totp:M365") == 1
	})
	// The user name, copied from the page.
	c.Navigate(item)
	press(`[data-testid="copy-username"]`)
	waitFor(t, 5*time.Second, "user name on the clipboard", func() bool { return clip() == "admin@alpha.example" })
	// From the password list.
	testkit.Eval[chromedp.Void](c, `navigator.clipboard.writeText("")`)
	c.Navigate(base + "/docs/passwords")
	press(`[data-testid="copy-password-` + strconv.FormatInt(ids[0], 10) + `"]`)
	waitFor(t, 5*time.Second, "password from the list on the clipboard", func() bool { return clip() == "M365-Geheim-4711" })
	c.Axe()

	// The SSID works; then the clipboard refuses: the page says so, and nothing claims a copy.
	wifi := base + "/docs/wireless/" + strconv.FormatInt(ids[1], 10)
	c.Navigate(wifi)
	press(`[data-testid="copy-name"]`)
	waitFor(t, 5*time.Second, "SSID on the clipboard", func() bool { return clip() == "Alpha-WLAN" })
	// Headless Chromium lets a page with a user gesture write even with the permission denied, so the
	// page's clipboard refuses instead, as a browser that blocks it would (NotAllowedError).
	testkit.Eval[chromedp.Void](c, `(() => {
		const refuse = () => Promise.reject(new DOMException("refused", "NotAllowedError"));
		navigator.clipboard.write = refuse;
		navigator.clipboard.writeText = refuse;
	})()`)
	press(`[data-testid="copy-key"]`)
	waitFor(t, 5*time.Second, "the failure shown", func() bool {
		return strings.Contains(testkit.Eval[string](c, `document.querySelector('[data-testid="copy-status-key"]').innerText`), "use “Show” instead")
	})
	if auditCount(t, p, org.ID, "Vera Viewer", "docs.reveal", "wireless.key:Alpha-WLAN") != 1 {
		t.Fatal("the fetch for a failed copy is not in the log as a reveal")
	}
	time.Sleep(300 * time.Millisecond) // a confirmation, if one were (wrongly) sent, would have arrived
	if n := auditCount(t, p, org.ID, "Vera Viewer", "docs.copy", "wireless.key:Alpha-WLAN"); n != 0 {
		t.Fatalf("a failed copy is logged as copied (%d)", n)
	}
	c.Axe()
}
