package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"portier/db"
)

func TestWarrantyEndingSoonIsHighlightedAndTOTPShowsTheCurrentCode(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	soon := e.clock.Now().AddDate(0, 0, 30).Format("2006-01-02")
	later := e.clock.Now().AddDate(1, 0, 0).Format("2006-01-02")
	for name, end := range map[string]string{"Soon-NAS": soon, "Later-NAS": later} {
		if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: name,
			Fields: map[string]string{"kind": "server", "warranty_end": end}}, db.DocActor{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	const seed = "JBSWY3DPEHPK3PXP"
	id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: "M365",
		Secrets: map[string]string{"password": "x", "totp": seed}}, db.DocActor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.as(f.viewer)
	_, body := e.get("/o/alpha/docs/configurations", nil)
	d := doc(t, body)
	soonRow := d.Find(`tr:contains("Soon-NAS") [data-testid="highlight"]`).Length()
	laterRow := d.Find(`tr:contains("Later-NAS") [data-testid="highlight"]`).Length()
	if soonRow != 1 || laterRow != 0 {
		t.Fatalf("warranty highlight: soon %d, later %d", soonRow, laterRow)
	}
	resp, body := e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/totp", id), nil, map[string]string{"HX-Request": "true"})
	want, _ := totp.GenerateCode(seed, e.clock.Now())
	got := strings.ReplaceAll(doc(t, body).Find(`[data-testid="secret-value-totp"]`).Text(), " ", "")
	if resp.StatusCode != 200 || strings.TrimSpace(got) != want || doc(t, body).Find(`[data-testid="totp-remaining"]`).Length() != 1 {
		t.Fatalf("totp: %d %q want %q", resp.StatusCode, got, want)
	}
	if strings.Contains(body, seed) {
		t.Fatal("the seed itself was shown")
	}
}

// Copy buttons stand beside every copyable value (user name, secret, current one-time code, SSID) and in
// the password list, outside the part that "show" replaces, so they stay after a reveal. A secret's button
// names the fetch and the confirmation; a plain value is copied from the page without the server.
func TestCopyButtonsBesideEveryCopyableValue(t *testing.T) {
	f, e, id, item := m365Page(t)
	_, body := e.get(item, map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	for field, url := range map[string]string{"password": item + "/copy/password", "totp": item + "/copy/totp"} {
		b := d.Find(`[data-testid="copy-` + field + `"]`)
		if b.Length() != 1 || b.AttrOr("data-copy-url", "") != url || b.AttrOr("data-copy-confirm", "") != item+"/copied/"+field {
			t.Fatalf("copy button of %s: %d %q", field, b.Length(), b.AttrOr("data-copy-url", ""))
		}
		if d.Find(`#secret-`+field+` [data-testid="copy-`+field+`"]`).Length() != 0 {
			t.Fatalf("copy button of %s inside the part a reveal replaces", field)
		}
		if d.Find(`[data-testid="copy-status-`+field+`"][role="status"]`).Length() != 1 {
			t.Fatalf("no status for the copy of %s", field)
		}
	}
	if b := d.Find(`[data-testid="copy-username"]`); b.AttrOr("data-copy-text", "") != "admin@alpha.example" || b.AttrOr("aria-label", "") != "Copy User name" {
		t.Fatalf("user name copy: %q %q", b.AttrOr("data-copy-text", ""), b.AttrOr("aria-label", ""))
	}
	if strings.Contains(body, marker) || strings.Contains(body, totpSeed) {
		t.Fatal("a secret on the detail page")
	}
	_, body = e.get(fmt.Sprintf("/o/alpha/docs/wireless/%d", f.items["wireless"]), nil)
	if b := doc(t, body).Find(`[data-testid="copy-name"]`); b.AttrOr("data-copy-text", "") != "Alpha-WLAN" {
		t.Fatal("no copy of the SSID")
	}
	_, body = e.get("/o/alpha/docs/passwords", map[string]string{"Accept-Language": "en"})
	d = doc(t, body)
	row := fmt.Sprintf("%d", id)
	if b := d.Find(`[data-testid="copy-password-` + row + `"]`); b.AttrOr("data-copy-url", "") != item+"/copy/password" ||
		b.AttrOr("aria-label", "") != "Copy Password of M365" {
		t.Fatalf("list copy of the password: %q %q", b.AttrOr("data-copy-url", ""), b.AttrOr("aria-label", ""))
	}
	if d.Find(`[data-testid="copy-username-`+row+`"]`).AttrOr("data-copy-text", "") != "admin@alpha.example" {
		t.Fatal("list copy of the user name")
	}
	if n, m := d.Find("thead th").Length(), d.Find(`tr[data-testid="row-`+row+`"] td`).Length(); n != m {
		t.Fatalf("list has %d headers but %d cells", n, m)
	}
	if strings.Contains(body, marker) {
		t.Fatal("a secret in the list")
	}
}
