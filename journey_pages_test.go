package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"portier/db"
	"portier/testkit"
)

// -screenshots=DIR makes TestJourneyEveryPage save a full-page PNG of every page it visits, at 1280 px and
// at 390×844, in both languages (`go tool task screenshots` writes them to out/screenshots).
var screenshotDir = flag.String("screenshots", "", "save screenshots of every journey page into this folder")

// pjViewport is a window the pages are checked in: a desktop, the phone of issue 12, and a small phone.
type pjViewport struct {
	w, h      int
	axe, shot bool
}

var pjViewports = []pjViewport{{1280, 900, true, true}, {390, 844, true, true}, {360, 740, false, false}}

// pjPages checks the page a browser is on at every viewport: no sideways scrolling (scrollWidth ≤
// innerWidth), no serious accessibility violation, and optionally a screenshot.
type pjPages struct {
	t    *testing.T
	lang string
	dir  string
	n    int
	// wide names pages allowed to scroll sideways for now, with the reason.
	wide map[string]string
}

func (s *pjPages) check(b *testkit.BrowserT, name string) {
	s.t.Helper()
	s.n++
	for _, vp := range pjViewports {
		b.SetViewport(vp.w, vp.h)
		if why := b.Overflow(); why != "" && s.wide[name] == "" {
			s.t.Errorf("%s (%s, %d px) scrolls sideways: %s", name, s.lang, vp.w, why)
		}
		if vp.axe {
			for _, v := range b.AxeViolations() {
				s.t.Errorf("%s (%s, %d px): accessibility %s (%s): %s", name, s.lang, vp.w, v.ID, v.Impact, v.Description)
			}
		}
		if vp.shot && s.dir != "" {
			b.Screenshot(filepath.Join(s.dir, fmt.Sprintf("%s-%02d-%s-%d.png", s.lang, s.n, name, vp.w)))
		}
	}
	b.SetViewport(1280, 900)
}

// sameLine fails unless the elements matched by a and b (both present) end at the same height and are as
// tall as each other, within a pixel, at 1280 px: a filter button level with its fields, "copy" beside "show".
func (s *pjPages) sameLine(b *testkit.BrowserT, name, a, c string) {
	s.t.Helper()
	got := testkit.Eval[[]float64](b, `(() => { const a = document.querySelector(`+"`"+a+"`"+`).getBoundingClientRect(),
		b = document.querySelector(`+"`"+c+"`"+`).getBoundingClientRect(); return [a.bottom, b.bottom, a.height, b.height] })()`)
	if d := got[0] - got[1]; d > 1 || d < -1 {
		s.t.Errorf("%s (%s): %s ends at %.0f px, %s at %.0f px", name, s.lang, a, got[0], c, got[1])
	}
	if d := got[2] - got[3]; d > 1 || d < -1 {
		s.t.Errorf("%s (%s): %s is %.0f px tall, %s %.0f px", name, s.lang, a, got[2], c, got[3])
	}
}

// visit opens path and checks it; it must answer with status want.
func (s *pjPages) visit(b *testkit.BrowserT, base, path, name string, want int) {
	s.t.Helper()
	if st := b.Navigate(base + path); st != want {
		s.t.Errorf("%s: status %d, want %d", path, st, want)
	}
	s.check(b, name)
}

// pjLang switches the page (and a signed-in person) to lang with the language switch.
func pjLang(b *testkit.BrowserT, lang string) {
	if testkit.Eval[string](b, `document.documentElement.lang`) == lang {
		return
	}
	testkit.Eval[chromedp.Void](b, `document.querySelector('[data-testid="lang-`+lang+`"]').click()`)
	b.WaitVisible(`html[lang="` + lang + `"]`)
}

// pjUserID is the id of the person with this address in the running portal's database.
func pjUserID(t *testing.T, p *portier, email string) string {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, err := d.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(u.ID, 10)
}

var pjSetupRE = regexp.MustCompile(`http://localhost:\d+/setup/[A-Za-z0-9_-]{43}`)

// Every page the journeys reach, as a visitor, as a new customer setting up a second factor, as a customer's
// manager and as an MSP administrator, in German and English: none scrolls sideways at 1280, 390 or 360 px,
// none has a serious accessibility violation at 1280 or 390 px.
func TestJourneyEveryPage(t *testing.T) {
	old := testkit.BrowserTimeout
	testkit.BrowserTimeout = 8 * time.Minute
	t.Cleanup(func() { testkit.BrowserTimeout = old })
	if *screenshotDir != "" {
		if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := &pjPages{t: t, lang: lang, dir: *screenshotDir, wide: map[string]string{}}
			p, _ := flStartWithMail(t)
			// The first-admin link is printed just after the server starts listening.
			setupLink := ""
			for deadline := time.Now().Add(5 * time.Second); setupLink == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				setupLink = pjSetupRE.FindString(p.Stdout.String())
			}

			// A visitor.
			b := testkit.Browser(t)
			b.Navigate(p.BaseURL + "/")
			pjLang(b, lang)
			s.check(b, "welcome")
			s.visit(b, p.BaseURL, "/login", "login", 200)
			b.SetValue("#email", "nobody@example.com")
			b.SetValue("#password", "wrong-password")
			b.Click(`[data-testid="login-submit"]`)
			b.WaitVisible(`[data-testid="login"] [role="alert"], [data-testid="login"] .alert`)
			s.check(b, "login-failed")
			s.visit(b, p.BaseURL, "/forgot", "forgot", 200)
			s.visit(b, p.BaseURL, "/terms", "terms", 200)
			s.visit(b, p.BaseURL, "/no/such/page", "not-found", 404)
			if setupLink == "" {
				t.Fatalf("no first-admin link:\n%s", p.Stdout.String())
			}
			s.visit(b, "", setupLink, "first-admin", 200)
			s.visit(b, p.BaseURL, "/reset/"+strings.Repeat("x", 43), "link-used", 410)

			// A new customer: invitation → password → second factor → recovery codes → done.
			slug, link := flInviteByCLI(t, p, "anna.beispiel@kunde.example", lang)
			s.visit(b, "", link, "invitation", 200)
			b.Click("#terms")
			flTypeGoodPassword(t, b)
			s.check(b, "invitation-filled")
			b.Click(`[data-testid="setpw-submit"]`)
			b.WaitVisible(`[data-testid="mfa-setup"]`)
			s.check(b, "mfa-choose")
			s.visit(b, p.BaseURL, "/mfa/setup/email", "mfa-email", 200)
			s.visit(b, p.BaseURL, "/mfa/setup/totp", "mfa-app", 200)
			b.Click(`[data-testid="totp-manual"] summary`)
			key := strings.ReplaceAll(b.Text(`[data-testid="totp-key"]`), " ", "")
			code, err := totp.GenerateCode(key, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			b.SendKeys("#name", "Diensthandy")
			b.SendKeys("#code", code)
			b.Click(`[data-testid="totp-submit"]`)
			b.WaitVisible(`[data-testid="recovery-codes"]`)
			s.check(b, "mfa-recovery")
			b.Click(`[data-testid="recovery-done"]`)
			b.WaitVisible(`[data-testid="org-home"]`)
			s.check(b, "customer-home")
			b.Click(`[data-testid="logout"]`)
			b.WaitVisible(`[data-testid="login"]`)

			// Staff and a manager of the organisation, seeded with an authenticator app.
			d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
			if err != nil {
				t.Fatal(err)
			}
			org, err := d.OrgBySlug(context.Background(), slug)
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			admin := seedPerson(t, p, "admin@msp.example", "Ada Admin", "admin", 0, "", 1)
			mgr := seedPerson(t, p, "petra@kunde.example", "Petra Manager", "", org.ID, "manager", 50)
			vera := seedPerson(t, p, "vera@kunde.example", "Vera Viewer", "", org.ID, "viewer", 80)
			veraID := pjUserID(t, p, vera.Email)
			base := p.BaseURL + "/o/" + slug

			a := testkit.Browser(t)
			a.Navigate(p.BaseURL + "/login")
			pjLang(a, lang)
			a.SetValue("#email", admin.Email)
			a.SetValue("#password", docsJourneyPassword)
			a.Click(`[data-testid="login-submit"]`)
			a.WaitVisible("#code")
			s.check(a, "mfa-code")
			code, err = totp.GenerateCode(admin.Secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			a.SetValue("#code", code)
			a.Click(`[data-testid="mfa-submit"]`)
			a.WaitGone("#code")
			pjLang(a, lang)
			fillNew(t, a, base, "configurations", map[string]string{"name": "FW-01", "ip": "192.168.1.1", "manufacturer": "Lancom", "location": "Serverraum Erdgeschoss"}, map[string]string{"kind": "access_point"})
			cfg := a.Location()
			fillNew(t, a, base, "contacts", map[string]string{"name": "Anna Kontakt", "email": "anna.kontakt@kunde.example", "phone": "+49 30 123456"}, nil)
			fillNew(t, a, base, "passwords", map[string]string{"name": "NAS admin", "username": "administrator@kunde.example", "password": "Nas-Geheim-4711", "url": "https://nas.kunde.example:5001/webman/index.cgi"}, map[string]string{"category": "cloud"})
			pw := a.Location()
			fillNew(t, a, base, "wireless", map[string]string{"name": "Kunde-WLAN", "key": "Wlan-Schluessel-2026"}, map[string]string{"security": "wpa2"})
			wlan := a.Location()
			fillNew(t, a, base, "vpn", map[string]string{"name": "Homeoffice", "config": "[Interface]\nPrivateKey = abc\nAddress = 10.0.0.2/32\n"}, map[string]string{"kind": "wireguard"})
			s.check(a, "vpn-detail")
			s.visit(a, p.BaseURL, strings.TrimPrefix(wlan, p.BaseURL), "wireless-detail", 200)
			a.Click(`[data-testid="reveal-key"]`)
			a.WaitVisible(`[data-testid="secret-value-key"]`)
			s.check(a, "wireless-revealed")
			s.visit(a, p.BaseURL, strings.TrimPrefix(pw, p.BaseURL), "password-detail", 200)
			a.WaitVisible(`[data-testid="copy-password"]`)
			s.sameLine(a, "password detail", `[data-testid="reveal-password"]`, `[data-testid="copy-password"]`)
			s.visit(a, p.BaseURL, strings.TrimPrefix(pw, p.BaseURL)+"/edit", "password-edit", 200)
			s.visit(a, p.BaseURL, strings.TrimPrefix(pw, p.BaseURL)+"/history", "password-history", 200)
			s.visit(a, p.BaseURL, strings.TrimPrefix(cfg, p.BaseURL), "configuration-detail", 200)
			for _, area := range []string{"configurations", "contacts", "passwords", "wireless", "vpn"} {
				s.visit(a, base, "/docs/"+area, area, 200)
			}
			s.sameLine(a, "configurations filter", `.docs-filters select`, `.docs-filters button`)
			s.visit(a, base, "/docs/configurations/new", "configuration-new", 200)
			s.visit(a, base, "/import/contacts", "import", 200)
			s.visit(a, base, "/search?q=NAS", "search", 200)
			s.visit(a, base, "/handbook", "handbook", 200)
			s.visit(a, base, "", "org-home", 200)
			s.visit(a, base, "/people", "org-people", 200)
			s.visit(a, base, "/audit", "org-audit", 200)
			s.visit(a, p.BaseURL, "/staff", "staff", 200)
			s.visit(a, p.BaseURL, "/staff/people", "staff-people", 200)
			s.visit(a, p.BaseURL, "/staff/settings", "staff-settings", 200)
			s.visit(a, p.BaseURL, "/staff/audit", "staff-audit", 200)
			s.sameLine(a, "audit filter", `#audit-action`, `[data-testid="audit-filter-submit"]`)
			s.sameLine(a, "header", `[data-testid="logout"]`, `[data-testid="lang-en"]`)
			s.visit(a, p.BaseURL, "/staff/search?q=NAS", "staff-search", 200)
			// Documents, what expires next, custom fields and templates (issue 13's pages).
			s.visit(a, base, "/articles/new", "document-new", 200)
			a.SetValue("#a-title", "Internet ist ausgefallen")
			a.SetValue("#a-body", "## 1. Router\n\nRouter neu starten und zwei Minuten warten.\n\n| Wer | Telefon |\n| --- | --- |\n| Hotline des Anbieters | 0800 330 1172 |\n")
			clickAndLoad(t, a, `[data-testid="article-save"]`)
			a.WaitVisible(`[data-testid="article"]`)
			s.check(a, "document")
			s.visit(a, base, "/articles", "documents", 200)
			s.visit(a, base, "/expiry", "expiry", 200)
			s.visit(a, p.BaseURL, "/staff/expiry", "staff-expiry", 200)
			s.visit(a, p.BaseURL, "/staff/fields", "staff-fields", 200)
			s.visit(a, p.BaseURL, "/staff/templates", "staff-templates", 200)
			s.visit(a, p.BaseURL, "/staff/templates/new", "staff-template-new", 200)
			s.visit(a, p.BaseURL, "/profile", "profile", 200)
			s.visit(a, p.BaseURL, "/security", "security", 200)
			// Removing a factor asks first.
			a.Click(`[data-testid^="remove-"]`)
			a.WaitVisible(`[data-testid="remove-method"]`)
			s.check(a, "security-remove")

			// The customer's manager.
			m := testkit.Browser(t)
			signInWithApp(t, m, p.BaseURL, mgr)
			pjLang(m, lang)
			s.check(m, "manager-home")
			s.visit(m, base, "/docs/passwords", "manager-passwords", 200)
			s.visit(m, base, "/people", "manager-people", 200)
			// Removing someone from the organisation asks first; afterwards their next page of it is refused,
			// and with no organisation left they are told whom to ask.
			v := testkit.Browser(t)
			signInWithApp(t, v, p.BaseURL, vera)
			pjLang(v, lang)
			m.Click(`[data-testid="member-remove-open-` + veraID + `"]`)
			m.WaitVisible(`[data-testid="member-remove-` + veraID + `"]`)
			s.check(m, "manager-people-remove")
			clickAndLoad(t, m, `[data-testid="member-remove-`+veraID+`"]`)
			m.WaitVisible(`[data-testid="alert-success"]`)
			s.check(m, "manager-people-removed")
			if st := v.Navigate(base); st != 404 {
				t.Errorf("the removed person's next page of the organisation: %d, want 404", st)
			}
			s.visit(v, p.BaseURL, "/orgs", "no-organisation", 200)
			s.visit(m, base, "/audit", "manager-audit", 200)
			s.visit(m, base, "/articles", "manager-documents", 200)
			s.visit(m, base, "/expiry", "manager-expiry", 200)
			s.visit(m, p.BaseURL, "/security", "manager-security", 200)
		})
	}
}
