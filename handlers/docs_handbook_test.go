package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// The printable handbook with secrets prints a stored TOTP seed as its current code, never the seed, and
// each secret it printed is an audit entry of its own (item and field).
func TestHandbookPrintsTheCurrentCodeNotTheSeedAndAuditsEachSecret(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	addM365(t, f)
	f.as(f.viewer)
	resp, body := e.post("/o/alpha/handbook", url.Values{"secrets": {"1"}}, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handbook: %d", resp.StatusCode)
	}
	flat := strings.ToUpper(strings.Join(strings.Fields(body), ""))
	if strings.Contains(flat, totpSeed) {
		t.Fatal("the handbook prints the TOTP seed")
	}
	for i := 0; i+4 <= len(totpSeed); i += 4 {
		if g := totpSeed[i : i+4]; strings.Contains(strings.ToUpper(body), g) {
			t.Fatalf("the handbook prints the seed's group %q", g)
		}
	}
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if !strings.Contains(body, code) || !strings.Contains(body, "m365-"+marker) {
		t.Fatalf("the handbook lacks the current code %s (or the password)", code)
	}
	// Viewer's secrets: NAS admin's password, the Wi-Fi key, the VPN configuration, M365's password and
	// its one-time code; not the staff-only password.
	want := map[string]bool{"passwords.password:NAS admin": true, "wireless.key:Alpha-WLAN": true,
		"passwords.password:M365": true, "passwords.totp:M365": true}
	got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.handbook_reveal")
	if len(got) != 5 {
		t.Fatalf("handbook with secrets: %d entries, want one per printed secret (5): %+v", len(got), got)
	}
	seen := map[string]bool{}
	for _, en := range got {
		_, rest, _ := strings.Cut(en.Target, ":") // id:area.field:name
		if seen[rest] {
			t.Errorf("secret %q audited twice for one print", rest)
		}
		seen[rest] = true
		if strings.Contains(en.Target, marker) || strings.Contains(en.Target, totpSeed) {
			t.Fatal("a secret in the audit target")
		}
	}
	for w := range want {
		if !seen[w] {
			t.Errorf("no entry for %q; got %v", w, seen)
		}
	}
	if n := len(auditOf(t, e, f.a.ID, f.viewer.ID, "docs.handbook_secrets")); n != 1 {
		t.Fatalf("print itself audited %d times", n)
	}
}
