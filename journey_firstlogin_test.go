package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"portier/auth"
	"portier/i18n"
	"portier/testkit"
)

// The first-login journeys of issue 3, in real Chromium against `portier serve` with a real SMTP server, in
// German and in English.

var (
	flLinkRE = regexp.MustCompile(`http://localhost:\d+/(invite|reset)/[A-Za-z0-9_-]{43}`)
	flSlugRE = regexp.MustCompile(`(?m)^([a-z0-9-]+)$`)
)

const (
	flName     = "Anna Beispiel"
	flPassword = "Wolkenkratzer7#"
)

// flStartWithMail runs the portal with the test's SMTP server.
func flStartWithMail(t *testing.T) (*portier, *testkit.MailServer) {
	t.Helper()
	smtp := testkit.SMTP(t)
	p := startPortier(t, map[string]string{"PORTIER_SMTP_URL": smtp.URL(), "PORTIER_MAIL_FROM": "portal@muster-it.example"})
	return p, smtp
}

// flInviteByCLI creates the organisation and invites the person with the command line, as an MSP would.
func flInviteByCLI(t *testing.T, p *portier, email, lang string) (slug, link string) {
	t.Helper()
	out, err := p.cmd(t, "org", "create", "--name", "Muster GmbH")
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	m := flSlugRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("org create printed no slug:\n%s", out)
	}
	slug = m[1]
	out, err = p.cmd(t, "invite", "--org", slug, "--email", email, "--name", flName, "--lang", lang)
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, out)
	}
	if link = flLinkRE.FindString(out); link == "" {
		t.Fatalf("invite printed no link:\n%s", out)
	}
	return slug, link
}

// flRuleText is a rule's text in the page's language, with the policy's numbers.
func flRuleText(l *i18n.Localizer, key string) string {
	for _, r := range auth.DefaultPolicy().Rules() {
		if r.Key == key {
			var args []any
			for k, v := range r.Args {
				args = append(args, k, v)
			}
			return l.T(key, args...)
		}
	}
	return l.T(key)
}

// flTypePasswords types both password fields (as key events, so the live check runs).
func flTypePasswords(b *testkit.BrowserT, pw, repeat string) {
	testkit.Eval[bool](b, `(() => { for (const id of ["password", "password2"]) document.getElementById(id).value = ""; return true })()`)
	b.SendKeys("#password", pw)
	b.SendKeys("#password2", repeat)
}

// flRefuseEachRule types passwords that each break one rule, sees the live list mark that rule, submits, and
// sees the server name it among the unmet rules.
func flRefuseEachRule(t *testing.T, b *testkit.BrowserT, l *i18n.Localizer) {
	t.Helper()
	// Consecutive cases break different rules, so neither the live list nor the refusal page of the case
	// before can satisfy the waits of the next one.
	cases := []struct{ pw, repeat, rule string }{
		{"Wk7#q", "", auth.LengthKey},
		{"wolkenkratzer7#", "", auth.UpperKey},
		{"Wolkenkratzer#", "", auth.DigitKey},
		{"Wolkenkratzer7", "", auth.SpecialKey},
		{"P@ssw0rd", "", auth.CommonKey},
		{"Beispiel2026!", "", auth.PersonalKey}, // the person's name
		{"Welcome1!", "", auth.CommonKey},
		{"Muster#2026", "", auth.PersonalKey}, // the organisation
		{flPassword, "Wolkenkratzer7!", auth.MatchKey},
	}
	for _, c := range cases {
		repeat := c.repeat
		if repeat == "" {
			repeat = c.pw
		}
		flTypePasswords(b, c.pw, repeat)
		// Live, while typing (htmx asks the server).
		b.WaitVisible(`#password-rules ul[data-empty="false"] li[data-rule="` + c.rule + `"][data-met="false"]`)
		// On submit, the server refuses and names the rule.
		b.Click(`[data-testid="setpw-submit"]`)
		sel := `[data-testid="password-unmet"] li[data-rule="` + c.rule + `"]`
		b.WaitVisible(sel)
		if got, want := strings.TrimSpace(b.Text(sel)), flRuleText(l, c.rule); got != want {
			t.Errorf("%q: rule named as %q, want %q", c.pw, got, want)
		}
	}
}

// flTypeGoodPassword types a good password and waits until the live list ticks off every rule.
func flTypeGoodPassword(t *testing.T, b *testkit.BrowserT) {
	t.Helper()
	flTypePasswords(b, flPassword, flPassword)
	const unmet = `document.querySelectorAll('#password-rules li[data-met="false"]').length`
	deadline := time.Now().Add(5 * time.Second)
	for testkit.Eval[int](b, unmet) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("good password: %d rules still shown as unmet", testkit.Eval[int](b, unmet))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.WaitVisible(`#password-rules ul[data-empty="false"] li[data-rule="` + auth.MatchKey + `"][data-met="true"]`)
}

// flSignedIn checks where the pipeline sent the person after password, address and terms:
// "your account is set up" and then the organisation, or — once the next issue adds it — the second factor.
func flSignedIn(t *testing.T, b *testkit.BrowserT, l *i18n.Localizer, slug string) {
	t.Helper()
	b.WaitVisible(`[data-testid="logout"]`)
	// The page that was just submitted (terms, say) has a logout button too: wait until the browser has
	// left it for the next step.
	path := testkit.Eval[string](b, `location.pathname`)
	for deadline := time.Now().Add(10 * time.Second); path != "/welcome/done" && !strings.HasPrefix(path, "/mfa") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		path = testkit.Eval[string](b, `location.pathname`)
	}
	switch {
	case path == "/welcome/done":
		if got := b.Text(`[data-testid="setup-done"] h1`); got != l.T("setup.done.title") {
			t.Errorf("setup done: %q", got)
		}
		b.Click(`[data-testid="setup-continue"]`)
		b.WaitVisible(`[data-testid="logout"]`)
		// The organisation home is the landing page of a person in one organisation.
		deadline := time.Now().Add(5 * time.Second)
		for !strings.HasSuffix(b.Location(), "/o/"+slug) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if loc := b.Location(); !strings.HasSuffix(loc, "/o/"+slug) {
			t.Errorf("after \"account set up\": %s, want /o/%s", loc, slug)
		}
	case strings.HasPrefix(path, "/mfa"):
		t.Logf("signed in; the pipeline continues with the second factor at %s", path)
	default:
		t.Fatalf("after the first-login steps: %s", path)
	}
}

func flNoCSPErrors(t *testing.T, b *testkit.BrowserT) {
	t.Helper()
	for _, line := range b.Console() {
		if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception") {
			t.Errorf("console: %s", line)
		}
	}
}

// CLI invite → mail → link → each unmet rule refused by name → good password and terms → signed in.
func TestJourneyFirstLoginByInvitation(t *testing.T) {
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := bundle.For(lang, "")
			p, smtp := flStartWithMail(t)
			email := "anna.beispiel@kunde.example"
			slug, printed := flInviteByCLI(t, p, email, lang)

			msg := smtp.WaitFor(t, email, 20*time.Second)
			if want := l.T("mail.invite.subject", "inviter", "Muster IT", "msp", "Muster IT"); msg.Subject != want {
				t.Errorf("subject %q, want %q", msg.Subject, want)
			}
			link := flLinkRE.FindString(msg.Text)
			if link == "" || link != printed || !strings.Contains(msg.HTML, link) {
				t.Fatalf("link in the mail %q, printed %q", link, printed)
			}

			b := testkit.Browser(t)
			if st := b.Navigate(link); st != 200 {
				t.Fatalf("invitation page: %d", st)
			}
			if got := testkit.Eval[string](b, `document.documentElement.lang`); got != lang {
				t.Fatalf("page language %q, want the invitee's %q", got, lang)
			}
			b.WaitVisible(`[data-testid="setpw-invite"]`)
			if got := b.Value("#name"); got != flName {
				t.Errorf("name pre-filled %q", got)
			}
			if got := b.Text(`[data-testid="setpw-email"]`); got != email {
				t.Errorf("e-mail shown %q", got)
			}
			b.Click("#terms")
			flRefuseEachRule(t, b, l)

			flTypeGoodPassword(t, b)
			if !testkit.Eval[bool](b, `document.querySelector('#terms').checked`) {
				t.Fatal("terms box lost its tick")
			}
			b.Click(`[data-testid="setpw-submit"]`)
			flSignedIn(t, b, l, slug)
			flNoCSPErrors(t, b)

			// The link worked once.
			b.Navigate(link)
			b.WaitVisible(`[data-testid="link-used"]`)
			if got := b.Text(`[data-testid="link-used"] h1`); got != l.T("link.used.title") {
				t.Errorf("second use: %q", got)
			}
		})
	}
}

// Invited, ignores the mail, uses "forgot password" (seeds 000 and 004), sets the password there, signs in.
func TestJourneyFirstPasswordThroughForgot(t *testing.T) {
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := bundle.For(lang, "")
			p, smtp := flStartWithMail(t)
			email := "anna.beispiel@kunde.example"
			slug, _ := flInviteByCLI(t, p, email, lang)
			smtp.WaitFor(t, email, 20*time.Second) // the invitation: ignored

			b := testkit.Browser(t)
			b.Navigate(p.BaseURL + "/login")
			if testkit.Eval[string](b, `document.documentElement.lang`) != lang {
				b.Click(`[data-testid="lang-` + lang + `"]`)
				b.WaitVisible(`html[lang="` + lang + `"]`)
			}
			b.Click(`[data-testid="forgot-link"]`)
			b.WaitVisible(`[data-testid="forgot"]`)
			b.SendKeys("#email", email)
			b.Click(`[data-testid="forgot-submit"]`)
			b.WaitVisible(`[data-testid="forgot-sent"]`)
			if got := b.Text(`[data-testid="forgot-sent"]`); !strings.Contains(got, l.T("forgot.sent.text", "email", email)) ||
				!strings.Contains(got, l.T("forgot.sent.spam")) {
				t.Errorf("answer page: %q", got)
			}

			msg := smtp.WaitFor(t, email, 20*time.Second)
			if want := l.T("mail.setpw.subject", "msp", "Muster IT"); msg.Subject != want {
				t.Errorf("subject %q, want %q (an invitee without a password sets one)", msg.Subject, want)
			}
			link := flLinkRE.FindString(msg.Text)
			if !strings.Contains(link, "/reset/") {
				t.Fatalf("no reset link in:\n%s", msg.Text)
			}
			b.Navigate(link)
			b.WaitVisible(`[data-testid="setpw-reset"]`)
			if got := b.Text("h1"); got != l.T("setpw.title") {
				t.Errorf("title %q", got)
			}
			if got := b.Value("#name"); got != flName {
				t.Errorf("name pre-filled %q", got)
			}
			// One rule refused on this form too (the same form and checks as the invitation).
			flTypePasswords(b, "Wolkenkratzer7", "Wolkenkratzer7")
			b.Click(`[data-testid="setpw-submit"]`)
			b.WaitVisible(`[data-testid="password-unmet"] li[data-rule="` + auth.SpecialKey + `"]`)
			flTypeGoodPassword(t, b)
			// The terms are offered here but not required: leave them for the sign-in.
			b.Click(`[data-testid="setpw-submit"]`)
			b.WaitVisible(`[data-testid="reset-done"]`)
			if got := b.Text(`[data-testid="reset-done"] h1`); got != l.T("reset.done.title") {
				t.Errorf("done page: %q", got)
			}
			// Using the link did not sign in.
			if n := testkit.Eval[int](b, `document.querySelectorAll('[data-testid="logout"]').length`); n != 0 {
				t.Fatal("the reset link signed in")
			}

			b.Click(`[data-testid="message-link"]`)
			b.WaitVisible(`[data-testid="login"]`)
			b.SendKeys("#email", email)
			b.SendKeys("#password", flPassword)
			b.Click(`[data-testid="login-submit"]`)
			b.WaitVisible(`[data-testid="terms-accept"]`)
			b.Click(`[data-testid="terms-accept"]`)
			// The terms page has a sign-out button too: wait until it is gone before looking where we are.
			b.WaitGone(`[data-testid="terms-accept"]`)
			flSignedIn(t, b, l, slug)
			flNoCSPErrors(t, b)
		})
	}
}

// The first administrator of a fresh installation, in German and in English: the setup link from the
// console → name and address → straight on to "set your password" (no invitation mail: they are already
// here) → second factor → the MSP's own name and support contact, asked before the first organisation →
// the staff home, ready for the first customer. The setup step fits a phone and passes axe.
func TestJourneyFirstAdminNamesTheMSP(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			p, smtp := flStartWithMail(t)
			setupLink := ""
			for deadline := time.Now().Add(5 * time.Second); setupLink == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				setupLink = pjSetupRE.FindString(p.Stdout.String())
			}
			if setupLink == "" {
				t.Fatalf("no first-admin link:\n%s", p.Stdout.String())
			}
			b := testkit.Browser(t)
			b.Navigate(p.BaseURL + "/")
			pjLang(b, lang)
			b.Navigate(setupLink)
			b.SetValue("#setup-name", "Ada Admin")
			b.SetValue("#setup-email", "ada@beispiel-it.example")
			testkit.Eval[chromedp.Void](b, `document.querySelector("#setup-lang").value = "`+lang+`"`)
			b.Click(`[data-testid="setup-submit"]`)
			b.WaitVisible("#terms")
			b.Click("#terms")
			flTypeGoodPassword(t, b)
			b.Click(`[data-testid="setpw-submit"]`)
			b.WaitVisible(`[data-testid="mfa-setup"]`)
			b.Navigate(p.BaseURL + "/mfa/setup/totp")
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
			b.Click(`[data-testid="recovery-done"]`)

			// The setup step, before anything else of the staff pages.
			b.WaitVisible(`[data-testid="msp-setup"]`)
			if loc := b.Location(); loc != p.BaseURL+"/staff/welcome" {
				t.Fatalf("after the first sign-in: %s", loc)
			}
			s := &pjPages{t: t, lang: lang}
			s.check(b, "msp-setup")
			b.SetValue("#msp-name", "Beispiel IT-Service GmbH")
			b.SetValue("#support-email", "hilfe@beispiel-it.example")
			b.SetValue("#support-phone", "+49 40 555 0100")
			logo := filepath.Join(t.TempDir(), "logo.png")
			img := image.NewRGBA(image.Rect(0, 0, 600, 150))
			for i := range img.Pix {
				img.Pix[i] = 0x40
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(logo, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			b.Do(chromedp.SetUploadFiles(`#msp-logo`, []string{logo}))
			if dir := os.Getenv("PORTIER_SHOTS"); dir != "" {
				for _, w := range []int{1280, 390} {
					b.SetViewport(w, 844)
					b.Screenshot(filepath.Join(dir, fmt.Sprintf("msp-setup-%s-%d.png", lang, w)))
				}
				b.SetViewport(1280, 900)
			}
			b.Click(`[data-testid="msp-setup-submit"]`)
			b.WaitVisible(`[data-testid="org-create"]`)
			b.WaitVisible(`[data-testid="brand-logo"]`)
			if got := b.Text(`header`); !strings.Contains(got, "Beispiel IT-Service GmbH") {
				t.Errorf("the header does not show the MSP's name: %q", got)
			}
			// The first organisation; the administrator got no mail along the way.
			b.SetValue("#org-name", "Alpha GmbH")
			b.SetValue("#org-slug", "alpha")
			b.Click(`[data-testid="org-create-submit"]`)
			b.WaitVisible(`[data-testid="people-org"]`) // on to inviting its first people
			if got := b.Text(`[data-testid="support-email"]`); got != "hilfe@beispiel-it.example" {
				t.Errorf("support address shown to people: %q", got)
			}
			for _, m := range smtp.Messages() {
				t.Errorf("a mail went out during the first administrator's setup: to %v %q", m.To, m.Subject)
			}
			flNoCSPErrors(t, b)
		})
	}
}
