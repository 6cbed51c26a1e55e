package testkit_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wneessen/go-mail"

	"portier/testkit"
)

const clickPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>testkit</title></head>
<body>
<label>Name <input id="name"></label>
<button id="go" type="button">Go</button>
<p id="out">waiting</p>
<script>
document.getElementById("go").addEventListener("click", () => {
  document.getElementById("out").textContent = "Hello, " + document.getElementById("name").value + "!";
});
console.log("page ready");
</script>
</body></html>`

// servePage serves html at / and returns the base URL with host "localhost"
// (a secure context for WebAuthn, unlike 127.0.0.1).
func servePage(t *testing.T, html string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html))
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

func TestBrowserClickAndRead(t *testing.T) {
	base := servePage(t, clickPage)
	b := testkit.Browser(t)

	if status := b.Navigate(base + "/"); status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	if got := b.Text("#out"); got != "waiting" {
		t.Fatalf("before click: #out = %q, want %q", got, "waiting")
	}
	b.SendKeys("#name", "Ann")
	b.Click("#go")
	if got := b.Text("#out"); got != "Hello, Ann!" {
		t.Errorf("after click: #out = %q, want %q", got, "Hello, Ann!")
	}
	b.SetValue("#name", "Bob")
	if got := b.Value("#name"); got != "Bob" {
		t.Errorf("value = %q, want Bob", got)
	}
	if got := b.Location(); got != base+"/" {
		t.Errorf("location = %q, want %q", got, base+"/")
	}
	if got := testkit.Eval[int](b, `new Promise(r => setTimeout(() => r(40 + 2), 10))`); got != 42 {
		t.Errorf("eval = %d, want 42", got)
	}
	if !strings.Contains(b.HTML(), `<p id="out">Hello, Ann!</p>`) {
		t.Errorf("HTML lacks the updated paragraph:\n%s", b.HTML())
	}
	if c := b.Console(); !slices.ContainsFunc(c, func(s string) bool { return strings.Contains(s, "page ready") }) {
		t.Errorf("console = %q, want a line with %q", c, "page ready")
	}
	if status := b.Navigate(base + "/missing"); status != http.StatusNotFound {
		t.Errorf("status of /missing = %d, want 404", status)
	}
	shot := filepath.Join(t.TempDir(), "page.png")
	b.Screenshot(shot)
	if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot is not a PNG (err %v)", err)
	}
}

// Two browsers in the same test run do not share cookies.
func TestBrowserFreshProfile(t *testing.T) {
	base := servePage(t, clickPage)
	b1 := testkit.Browser(t)
	b1.Navigate(base + "/")
	testkit.Eval[chromedp.Void](b1, `document.cookie = "sid=abc; path=/"`)
	if got := testkit.Eval[string](b1, `document.cookie`); got != "sid=abc" {
		t.Fatalf("cookie in first browser = %q", got)
	}
	b2 := testkit.Browser(t)
	b2.Navigate(base + "/")
	if got := testkit.Eval[string](b2, `document.cookie`); got != "" {
		t.Errorf("second browser sees cookie %q, want none", got)
	}
}

const createPasskeyJS = `(async () => {
  const cred = await navigator.credentials.create({publicKey: {
    rp: {id: "localhost", name: "Portier test"},
    user: {id: new TextEncoder().encode("user-42"), name: "ann@example.com", displayName: "Ann"},
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {residentKey: "required", userVerification: "required"},
    timeout: 10000,
  }});
  return {id: cred.id, type: cred.type};
})()`

// A discoverable-credential sign-in: no allowCredentials, no user name.
const getPasskeyJS = `(async () => {
  const a = await navigator.credentials.get({publicKey: {
    rpId: "localhost",
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    userVerification: "required",
    timeout: 10000,
  }});
  const ad = new DataView(a.response.authenticatorData);
  return {
    id: a.id,
    userHandle: new TextDecoder().decode(a.response.userHandle),
    flags: ad.getUint8(32),
    signCount: ad.getUint32(33),
  };
})()`

type createdCred struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type assertion struct {
	ID         string `json:"id"`
	UserHandle string `json:"userHandle"`
	Flags      int    `json:"flags"`
	SignCount  uint32 `json:"signCount"`
}

func TestVirtualAuthenticatorPasskey(t *testing.T) {
	base := servePage(t, clickPage)
	b := testkit.Browser(t)
	b.Navigate(base + "/")
	if !testkit.Eval[bool](b, `window.isSecureContext`) {
		t.Fatal("page is not a secure context; WebAuthn would be unavailable")
	}
	auth := b.VirtualAuthenticator()
	if auth.ID == "" {
		t.Fatal("empty authenticator id")
	}
	if n := len(auth.Credentials()); n != 0 {
		t.Fatalf("new authenticator has %d credentials", n)
	}

	created := testkit.Eval[createdCred](b, createPasskeyJS)
	if created.Type != "public-key" || created.ID == "" {
		t.Fatalf("create() = %+v", created)
	}

	creds := auth.Credentials()
	if len(creds) != 1 {
		t.Fatalf("GetCredentials lists %d credentials, want 1", len(creds))
	}
	c := creds[0]
	if got := base64.RawURLEncoding.EncodeToString(c.CredentialID); got != created.ID {
		t.Errorf("credential id = %s, want %s", got, created.ID)
	}
	if !c.IsResidentCredential || c.RpID != "localhost" || string(c.UserHandle) != "user-42" {
		t.Errorf("credential: resident=%v rpId=%q userHandle=%q", c.IsResidentCredential, c.RpID, c.UserHandle)
	}

	a1 := testkit.Eval[assertion](b, getPasskeyJS)
	if a1.ID != created.ID || a1.UserHandle != "user-42" {
		t.Errorf("get() = %+v, want id %s and user handle user-42", a1, created.ID)
	}
	if a1.Flags&0x05 != 0x05 { // UP and UV
		t.Errorf("flags = %#x, want user present and verified", a1.Flags)
	}

	// Rewind the counter, as a cloned authenticator would.
	auth.SetSignCount(c.CredentialID, 0)
	if got := auth.Credentials()[0].SignCount; got != 0 {
		t.Errorf("sign count after SetSignCount(0) = %v", got)
	}
	a2 := testkit.Eval[assertion](b, getPasskeyJS)
	if a2.SignCount != 1 || a2.SignCount >= a1.SignCount {
		t.Errorf("sign count after rewind = %d, want 1 (below the earlier %d)", a2.SignCount, a1.SignCount)
	}
	auth.SetSignCount(c.CredentialID, 41)
	if a3 := testkit.Eval[assertion](b, getPasskeyJS); a3.SignCount != 42 {
		t.Errorf("sign count after SetSignCount(41) = %d, want 42", a3.SignCount)
	}
	t.Logf("sign counts: first get %d, after rewind %d", a1.SignCount, a2.SignCount)
}

// TestArtifactsOnFailure runs a failing browser test in a child process: a
// click on a missing element must fail after ActionTimeout naming the
// selector, and leave a screenshot and the page HTML behind.
func TestArtifactsOnFailure(t *testing.T) {
	if os.Getenv("TESTKIT_FAILING_CHILD") == "1" {
		base := servePage(t, clickPage)
		b := testkit.Browser(t)
		b.Navigate(base + "/")
		b.Click("#go")
		testkit.ActionTimeout = time.Second
		b.Click("#no-such-button")
		t.Error("Click on a missing element returned")
		return
	}
	if testkit.FindChromium() == "" {
		t.Skip("no Chromium")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestArtifactsOnFailure$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTKIT_FAILING_CHILD=1", "PORTIER_ARTIFACTS="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child test passed, want failure:\n%s", out)
	}
	if !bytes.Contains(out, []byte(`testkit: click "#no-such-button": context deadline exceeded`)) {
		t.Errorf("child output lacks the selector and the timeout:\n%s", out)
	}
	if bytes.Contains(out, []byte("Click on a missing element returned")) {
		t.Errorf("Click did not stop the test:\n%s", out)
	}
	if !bytes.Contains(out, []byte("browser artifacts saved")) {
		t.Errorf("child output does not log the artifacts:\n%s", out)
	}
	png, err := os.ReadFile(filepath.Join(dir, "TestArtifactsOnFailure.png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("no PNG screenshot (err %v); child output:\n%s", err, out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "TestArtifactsOnFailure.html"))
	if err != nil || !bytes.Contains(html, []byte("Hello, !")) {
		t.Errorf("HTML artifact missing or without the clicked state (err %v):\n%s", err, html)
	}
}

func sendMail(t *testing.T, srv *testkit.MailServer, m *mail.Msg, opts ...mail.Option) error {
	t.Helper()
	opts = append([]mail.Option{
		mail.WithPort(srv.Port()),
		mail.WithTLSPolicy(mail.NoTLS),
		mail.WithTimeout(10 * time.Second),
	}, opts...)
	c, err := mail.NewClient(srv.Host(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c.DialAndSend(m)
}

func newMsg(t *testing.T, to, subject, text, html string, opts ...mail.MsgOption) *mail.Msg {
	t.Helper()
	m := mail.NewMsg(opts...)
	if err := m.From("Portier <noreply@portier.test>"); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m
}

func TestSMTPMultipart(t *testing.T) {
	srv := testkit.SMTP(t)
	if !strings.HasPrefix(srv.URL(), "smtp://127.0.0.1:") {
		t.Errorf("URL = %q", srv.URL())
	}

	// Long lines, "=" and non-ASCII force real quoted-printable soft breaks.
	text := "Hallo Jürgen,\n\nyour code: 123456\nlink: https://portier.test/verify?token=abc&x=" + strings.Repeat("y", 90) + "\n"
	html := `<p>Hallo <b>Jürgen</b>,</p><p><a href="https://portier.test/verify?token=abc">verify</a></p>`
	subject := "Grüße: your sign-in code"
	if err := sendMail(t, srv, newMsg(t, "ann@example.com", subject, text, html)); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.WaitFor(t, "ann@example.com", 5*time.Second)
	if got.Subject != subject {
		t.Errorf("subject = %q, want %q", got.Subject, subject)
	}
	if got.Text != strings.ReplaceAll(text, "\n", "\r\n") && got.Text != text {
		t.Errorf("text body = %q, want %q", got.Text, text)
	}
	if got.HTML != html {
		t.Errorf("html body = %q, want %q", got.HTML, html)
	}
	if got.From != "noreply@portier.test" || !slices.Equal(got.To, []string{"ann@example.com"}) {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	if !bytes.Contains(got.Data, []byte("quoted-printable")) {
		t.Errorf("expected a quoted-printable message, raw:\n%s", got.Data)
	}

	// base64 parts, LOGIN auth, and a second mail to the same address.
	m := newMsg(t, "ANN@example.com", "second", "plain ünïcode body\n", "<i>html</i>", mail.WithEncoding(mail.EncodingB64))
	if err := sendMail(t, srv, m, mail.WithSMTPAuth(mail.SMTPAuthLogin), mail.WithUsername("mailer"), mail.WithPassword("secret")); err != nil {
		t.Fatalf("send with AUTH LOGIN: %v", err)
	}
	got = srv.WaitFor(t, "ann@example.com", 5*time.Second)
	if got.Subject != "second" || strings.TrimRight(got.Text, "\r\n") != "plain ünïcode body" || got.HTML != "<i>html</i>" {
		t.Errorf("base64 mail parsed as subject %q text %q html %q; raw:\n%s", got.Subject, got.Text, got.HTML, got.Data)
	}
	if got.AuthUser != "mailer" {
		t.Errorf("auth user = %q, want mailer", got.AuthUser)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
}

func TestSMTPFailAndRetry(t *testing.T) {
	srv := testkit.SMTP(t)
	srv.Fail(1)
	m := newMsg(t, "bob@example.com", "retry me", "text", "<p>html</p>")
	err := sendMail(t, srv, m, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername("u"), mail.WithPassword("p"))
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("first send: err = %v, want a 451 error", err)
	}
	if srv.Rejected() != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("rejected %d, stored %d; want 1 and 0", srv.Rejected(), len(srv.Messages()))
	}
	if err := sendMail(t, srv, m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := srv.WaitFor(t, "bob@example.com", 5*time.Second); got.Subject != "retry me" {
		t.Errorf("subject = %q", got.Subject)
	}
}
