package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/db"
	"portier/i18n"
	"portier/testkit"
)

// The second-factor journeys of issue 4, in real Chromium against `portier serve` with a real SMTP server,
// in German and English: invitation → password and terms → choose the method → enrol → recovery codes and
// "your account is set up" on one screen → the documentation → sign out → sign in with password and that
// factor. Each counts the screens a person has to act on.

var (
	mjLinkRE = regexp.MustCompile(`http://localhost:\d+/invite/[A-Za-z0-9_-]{43}`)
	mjSlugRE = regexp.MustCompile(`(?m)^([a-z0-9-]+)$`)
	mjCodeRE = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)
)

const (
	mjEmail    = "anna.beispiel@kunde.example"
	mjPassword = "Wolkenkratzer7#"
)

type mfaJourney struct {
	t       *testing.T
	p       *portier
	smtp    *testkit.MailServer
	b       *testkit.BrowserT
	l       *i18n.Localizer
	slug    string
	screens int // pages the person had to act on, from the invitation link to the documentation
}

// startMFAJourney invites Anna with the command line (as an MSP would) and opens the link from the mail.
func startMFAJourney(t *testing.T, lang string) *mfaJourney {
	t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	smtp := testkit.SMTP(t)
	p := startPortier(t, map[string]string{"PORTIER_SMTP_URL": smtp.URL(), "PORTIER_MAIL_FROM": "portal@muster-it.example"})
	j := &mfaJourney{t: t, p: p, smtp: smtp, l: bundle.For(lang, "")}
	out, err := p.cmd(t, "org", "create", "--name", "Muster GmbH")
	m := mjSlugRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	j.slug = m[1]
	if out, err = p.cmd(t, "invite", "--org", j.slug, "--email", mjEmail, "--name", "Anna Beispiel", "--lang", lang); err != nil {
		t.Fatalf("invite: %v\n%s", err, out)
	}
	link := mjLinkRE.FindString(smtp.WaitFor(t, mjEmail, 20*time.Second).Text)
	if link == "" {
		t.Fatal("no invitation link in the mail")
	}
	j.b = testkit.Browser(t)
	if st := j.b.Navigate(link); st != 200 {
		t.Fatalf("invitation page: %d", st)
	}
	// Screen 1: name, password and terms on one page.
	j.b.WaitVisible(`[data-testid="setpw-form"]`)
	j.b.SendKeys("#password", mjPassword)
	j.b.SendKeys("#password2", mjPassword)
	j.b.Click("#terms")
	j.act(`[data-testid="setpw-submit"]`)
	// Screen 2: the choice of the second factor, saying what comes next.
	j.b.WaitVisible(`[data-testid="mfa-setup"]`)
	if got := testkit.Eval[string](j.b, `document.documentElement.lang`); got != lang {
		t.Fatalf("choice page in %q, want %q", got, lang)
	}
	if txt := j.b.Text(`[data-testid="mfa-setup"]`); !strings.Contains(txt, j.l.T("mfa.setup.next")) || !strings.Contains(txt, j.l.T("mfa.weakest")) {
		t.Errorf("choice page: %q", txt)
	}
	return j
}

// act clicks what moves the person on: one more screen acted on.
func (j *mfaJourney) act(sel string) {
	j.t.Helper()
	j.screens++
	j.b.Click(sel)
}

// recoveryAndDone reads the recovery codes on the "account set up" screen and goes to the documentation.
func (j *mfaJourney) recoveryAndDone() []string {
	j.t.Helper()
	j.b.WaitVisible(`[data-testid="recovery-codes"]`)
	j.b.WaitVisible(`[data-testid="setup-done"]`)
	codes := testkit.Eval[[]string](j.b, `Array.from(document.querySelectorAll('[data-testid="recovery-code"]')).map(e => e.textContent)`)
	if len(codes) != 10 {
		j.t.Fatalf("%d recovery codes", len(codes))
	}
	if href := testkit.Eval[string](j.b, `document.querySelector('[data-testid="recovery-download"]').getAttribute('href')`); href != "/mfa/recovery/codes.txt" {
		j.t.Errorf("download link %q", href)
	}
	j.act(`[data-testid="recovery-done"]`)
	j.atDocumentation()
	return codes
}

// atDocumentation waits for the organisation's documentation menu.
func (j *mfaJourney) atDocumentation() {
	j.t.Helper()
	j.b.WaitVisible(`[data-testid="org-home"]`)
	if loc := j.b.Location(); !strings.HasSuffix(loc, "/o/"+j.slug) {
		j.t.Fatalf("landed on %s", loc)
	}
}

func (j *mfaJourney) signOut() {
	j.t.Helper()
	j.b.Click(`[data-testid="logout"]`)
	j.b.WaitVisible(`[data-testid="login"]`)
}

// signInPassword fills the sign-in form and waits for the second-factor page.
func (j *mfaJourney) signInPassword() {
	j.t.Helper()
	j.b.Navigate(j.p.BaseURL + "/login")
	j.b.WaitVisible(`[data-testid="login"]`)
	j.b.SendKeys("#email", mjEmail)
	j.b.SendKeys("#password", mjPassword)
	j.b.Click(`[data-testid="login-submit"]`)
	j.b.WaitVisible(`[data-testid="mfa-verify"]`)
}

func (j *mfaJourney) method() string {
	return testkit.Eval[string](j.b, `document.querySelector('[data-testid="mfa-verify"]').dataset.method`)
}

// enterCode types a code into the sign-in step, submits it and waits until the next page has replaced
// this one (the failure page looks like the form page, so waiting for an element is not enough).
func (j *mfaJourney) enterCode(code string) {
	j.t.Helper()
	testkit.Eval[bool](j.b, `(() => { document.getElementById("code").value = ""; document.body.dataset.old = "1"; return true })()`)
	j.b.SendKeys("#code", code)
	j.b.Click(`[data-testid="mfa-submit"]`)
	j.b.WaitGone(`body[data-old]`)
}

// failed waits for the one generic failure message.
func (j *mfaJourney) failed() {
	j.t.Helper()
	j.b.WaitVisible(`[data-testid="mfa-verify"] [data-testid="alert-error"]`)
	if got := j.b.Text(`[data-testid="alert-error"]`); got != j.l.T("mfa.failed") {
		j.t.Errorf("failure message %q", got)
	}
}

// pageL is the localizer of the page shown now: pages without a signed-in person speak the browser's
// language (or the language cookie), not the person's.
func (j *mfaJourney) pageL() *i18n.Localizer {
	bundle, err := i18n.Load()
	if err != nil {
		j.t.Fatal(err)
	}
	return bundle.For(testkit.Eval[string](j.b, `document.documentElement.lang`), "")
}

func (j *mfaJourney) noCSPErrors() {
	j.t.Helper()
	for _, line := range j.b.Console() {
		if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception") {
			j.t.Errorf("console: %s", line)
		}
	}
}

// enrolTOTP sets up the app from the choice page; it reads the key typed out under "can't scan?".
func (j *mfaJourney) enrolTOTP() string {
	j.t.Helper()
	j.act(`[data-testid="setup-totp"]`)
	// Screen 3: QR code, the key for typing, the code.
	j.b.WaitVisible(`[data-testid="totp-qr"]`)
	if src := testkit.Eval[string](j.b, `document.querySelector('[data-testid="totp-qr"]').src`); !strings.HasPrefix(src, "data:image/png;base64,") {
		j.t.Fatalf("QR code src %.40q", src)
	}
	j.b.Click(`[data-testid="totp-manual"] summary`)
	j.b.WaitVisible(`[data-testid="totp-key"]`)
	key := strings.ReplaceAll(j.b.Text(`[data-testid="totp-key"]`), " ", "")
	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		j.t.Fatalf("key %q: %v", key, err)
	}
	j.b.SendKeys("#name", "Diensthandy")
	j.b.SendKeys("#code", code[:3]+" "+code[3:])
	j.act(`[data-testid="totp-submit"]`)
	return key
}

// App: invitation → documentation in at most 6 screens; the same code is refused in a second sign-in.
func TestJourneyMFAAuthenticatorApp(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			j := startMFAJourney(t, lang)
			key := j.enrolTOTP()
			j.recoveryAndDone()
			if j.screens > 6 {
				t.Errorf("%d screens from the invitation to the documentation, at most 6 allowed", j.screens)
			}
			t.Logf("authenticator app: %d screens", j.screens)
			j.noCSPErrors()

			j.signOut()
			j.signInPassword()
			if m := j.method(); m != "totp" {
				t.Fatalf("asked for %q", m)
			}
			// The next step's code: the enrolment used the current one (one step of skew is allowed).
			code, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second))
			j.enterCode(code)
			j.atDocumentation()

			// A second sign-in with the same code: refused.
			j.signOut()
			j.signInPassword()
			j.enterCode(code)
			j.failed()
			j.noCSPErrors()
		})
	}
}

// E-mail code: the code arrives at the SMTP server; five wrong codes void the attempt.
func TestJourneyMFAEmailCode(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			j := startMFAJourney(t, lang)
			j.act(`[data-testid="setup-email"]`)
			j.b.WaitVisible(`[data-testid="email-setup"]`)
			j.act(`[data-testid="email-send"]`)
			j.b.WaitVisible(`[data-testid="email-sent-to"]`)
			code := mjCode(t, j.smtp)
			j.b.SendKeys("#code", code)
			j.act(`[data-testid="email-verify"]`)
			j.recoveryAndDone()
			t.Logf("e-mail code: %d screens", j.screens)

			j.signOut()
			j.signInPassword()
			if m := j.method(); m != "email" {
				t.Fatalf("asked for %q", m)
			}
			j.enterCode(mjCode(t, j.smtp))
			j.atDocumentation()

			// Five wrong codes: the attempt is void and the password is asked again.
			j.signOut()
			j.signInPassword()
			for i := 0; i < 4; i++ {
				j.enterCode("000000")
				j.failed()
			}
			j.enterCode("000000")
			j.b.WaitVisible(`[data-testid="login"]`)
			if got := j.b.Text(`[data-testid="alert-info"]`); got != j.pageL().T("mfa.voided") {
				t.Errorf("after five wrong codes: %q", got)
			}
			j.noCSPErrors()
		})
	}
}

func mjCode(t *testing.T, smtp *testkit.MailServer) string {
	t.Helper()
	m := mjCodeRE.FindStringSubmatch(smtp.WaitFor(t, mjEmail, 20*time.Second).Text)
	if m == nil {
		t.Fatal("no code in the mail")
	}
	return m[1]
}

// Passkey: invitation → documentation in at most 4 screens; the passkey as second factor after the
// password and for a sign-in without password; a sign-count regression is refused and explained.
func TestJourneyMFAPasskey(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			j := startMFAJourney(t, lang)
			auth := j.b.VirtualAuthenticator()
			// Screen 2 already holds the passkey: name it and create it there.
			j.b.WaitVisible(`[data-testid="passkey-form-register"]`)
			if v := j.b.Value("#passkey-name-register"); !strings.Contains(v, "Chrome") {
				t.Errorf("suggested passkey name %q", v)
			}
			j.act(`[data-testid="passkey-register"]`)
			j.recoveryAndDone()
			if j.screens > 4 {
				t.Errorf("%d screens from the invitation to the documentation, at most 4 allowed", j.screens)
			}
			t.Logf("passkey: %d screens", j.screens)
			creds := auth.Credentials()
			if len(creds) != 1 || !creds[0].IsResidentCredential {
				t.Fatalf("credentials in the authenticator: %+v", creds)
			}
			// The user handle is 32 random bytes, not the address.
			if len(creds[0].UserHandle) == 0 || strings.Contains(string(creds[0].UserHandle), "anna") {
				t.Errorf("user handle %q", creds[0].UserHandle)
			}

			// Second factor after the password.
			j.signOut()
			j.signInPassword()
			if m := j.method(); m != "passkey" {
				t.Fatalf("asked for %q", m)
			}
			j.b.Click(`[data-testid="passkey-mfa"]`)
			j.atDocumentation()

			// Without a password.
			j.signOut()
			j.b.WaitVisible(`[data-testid="passkey-login"]`)
			j.b.Click(`[data-testid="passkey-login"]`)
			j.atDocumentation()

			// A cloned authenticator: its counter goes backwards. Refused, with the reason.
			j.signOut()
			auth.SetSignCount(creds[0].CredentialID, 0)
			j.b.WaitVisible(`[data-testid="passkey-login"]`)
			j.b.Click(`[data-testid="passkey-login"]`)
			j.b.WaitVisible(`[data-testid="passkey-error-login"]`)
			if got := j.b.Text(`[data-testid="passkey-error-login"]`); got != j.pageL().T("mfa.passkey.cloned") {
				t.Errorf("clone message %q", got)
			}
			if loc := j.b.Location(); !strings.HasSuffix(loc, "/login") {
				t.Errorf("signed in with a cloned passkey: %s", loc)
			}
			j.noCSPErrors()
		})
	}
}

// Recovery code: signs in once in place of the app, and fails the second time.
func TestJourneyMFARecoveryCode(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			j := startMFAJourney(t, lang)
			j.enrolTOTP()
			codes := j.recoveryAndDone()

			j.signOut()
			j.signInPassword()
			j.b.Click(`[data-testid="mfa-others"] summary`)
			j.b.Click(`[data-testid="use-recovery"]`)
			j.b.WaitVisible(`[data-testid="mfa-verify"][data-method="recovery"]`)
			j.enterCode(codes[0])
			j.atDocumentation()

			j.signOut()
			j.signInPassword()
			j.b.Click(`[data-testid="mfa-others"] summary`)
			j.b.Click(`[data-testid="use-recovery"]`)
			j.b.WaitVisible(`[data-testid="mfa-verify"][data-method="recovery"]`)
			j.enterCode(codes[0])
			j.failed()

			// The codes never reached the database in the clear.
			d, err := db.Open(context.Background(), filepath.Join(j.p.DataDir, "portier.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var n int
			if err := d.R.QueryRow(`SELECT count(*) FROM recovery_codes WHERE code_hash = ? OR CAST(code_hash AS TEXT) = ?`, []byte(codes[1]), codes[1]).Scan(&n); err != nil && err != sql.ErrNoRows {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatal("a recovery code stored in the clear")
			}
			j.noCSPErrors()
		})
	}
}
