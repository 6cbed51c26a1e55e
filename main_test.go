package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
)

// syncBuf collects a subcommand's output while it runs.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// portier is a running `portier serve`, started through run() exactly as main does.
type portier struct {
	BaseURL string
	DataDir string
	Stdout  *syncBuf
	Stderr  *syncBuf
	env     map[string]string
	cancel  context.CancelFunc
	done    chan error
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPortier serves a fresh data folder on a free loopback port with base URL http://localhost:PORT
// (localhost is a secure context for passkeys). extra environment overrides the defaults.
func startPortier(t testing.TB, extra map[string]string) *portier {
	t.Helper()
	port := freePort(t)
	p := &portier{
		BaseURL: fmt.Sprintf("http://localhost:%d", port),
		DataDir: filepath.Join(t.TempDir(), "data"),
		Stdout:  &syncBuf{},
		Stderr:  &syncBuf{},
		done:    make(chan error, 1),
	}
	p.env = map[string]string{
		"PORTIER_ADDR":     fmt.Sprintf("127.0.0.1:%d", port),
		"PORTIER_DATA":     p.DataDir,
		"PORTIER_BASE_URL": p.BaseURL,
		"PORTIER_MSP_NAME": "Muster IT",
	}
	for k, v := range extra {
		p.env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- run(ctx, []string{"serve"}, p.getenv, p.Stdout, p.Stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Stdout.String(), "listening on") {
		select {
		case err := <-p.done:
			t.Fatalf("serve stopped: %v\n%s", err, p.Stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s\n%s", p.Stdout.String(), p.Stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(25 * time.Second):
			t.Errorf("serve did not shut down")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.Stderr.String())
		}
	})
	return p
}

func (p *portier) getenv(k string) string { return p.env[k] }

// cmd runs another subcommand against the same data folder and settings.
func (p *portier) cmd(t testing.TB, args ...string) (string, error) {
	t.Helper()
	out := &syncBuf{}
	err := run(context.Background(), args, p.getenv, out, out)
	return out.String(), err
}

func httpGet(t testing.TB, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServeWelcomeHealthAnd404(t *testing.T) {
	p := startPortier(t, nil)
	for lang, want := range map[string]string{"de": "Willkommen im Kundenportal von Muster IT", "en": "Welcome to the customer portal of Muster IT"} {
		resp, body := httpGet(t, p.BaseURL+"/", map[string]string{"Accept-Language": lang})
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want %q", lang, resp.StatusCode, want)
		}
	}
	if resp, body := httpGet(t, p.BaseURL+"/healthz", nil); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", resp.StatusCode, body)
	}
	resp, body := httpGet(t, p.BaseURL+"/random/path", map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") {
		t.Errorf("404: %d", resp.StatusCode)
	}
	// A new installation prints the first-admin link on a line of its own, after the "listening" line that
	// startPortier waits for: give it a moment on a busy machine.
	linkRE := regexp.MustCompile(`(?m)^http://localhost:\d+/setup/[A-Za-z0-9_-]{43}$`)
	for deadline := time.Now().Add(5 * time.Second); !linkRE.MatchString(p.Stdout.String()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !linkRE.MatchString(p.Stdout.String()) {
		t.Errorf("no first-admin link on the console:\n%s", p.Stdout.String())
	}
	// The key file was created on first start, readable by the owner only.
	st, err := os.Stat(filepath.Join(p.DataDir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("secret.key: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(p.DataDir, "portier.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("portier.db: %v %v", st, err)
	}
}

func TestBackupWhileServing(t *testing.T) {
	p := startPortier(t, nil)
	// Keep writing through a second connection while the backup runs.
	d, err := db.Open(context.Background(), filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := d.SetSetting(context.Background(), fmt.Sprintf("load.%d", i%50), strings.Repeat("x", i%500)); err != nil {
				t.Error(err)
				return
			}
			httpGet(t, p.BaseURL+"/", nil)
		}
	}()
	out := filepath.Join(t.TempDir(), "x.db")
	msg, err := p.cmd(t, "backup", "--out", out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "integrity ok") {
		t.Fatalf("backup output: %s", msg)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	if err := db.IntegrityCheck(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	b, err := db.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v, err := b.SchemaVersion(context.Background()); err != nil || v < 1 {
		t.Fatalf("backup schema version %d %v", v, err)
	}
	// A second backup to the same file is refused rather than overwriting it.
	if _, err := p.cmd(t, "backup", "--out", out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrote an existing backup: %v", err)
	}
	if _, err := p.cmd(t, "backup"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("backup without --out: %v", err)
	}
}

func TestBadSettingsNameTheSetting(t *testing.T) {
	cases := map[string]string{
		"PORTIER_BASE_URL=ftp://x":                  "PORTIER_BASE_URL",
		"PORTIER_BASE_URL=https://x.example/portal": "PORTIER_BASE_URL",
		"PORTIER_ADDR=nonsense":                     "PORTIER_ADDR",
		"PORTIER_SMTP_URL=http://mail":              "PORTIER_SMTP_URL",
		"PORTIER_TRUSTED_PROXIES=10.0.0.0/8,bogus":  "PORTIER_TRUSTED_PROXIES",
		"PORTIER_SESSION_IDLE=5":                    "PORTIER_SESSION_IDLE",
		"PORTIER_MAIL_FROM=nobody":                  "PORTIER_MAIL_FROM",
	}
	for kv, want := range cases {
		k, v, _ := strings.Cut(kv, "=")
		env := map[string]string{"PORTIER_DATA": t.TempDir(), k: v}
		var out syncBuf
		err := run(context.Background(), []string{"serve"}, func(s string) string { return env[s] }, &out, &out)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s", kv, err, want)
		}
	}
	// A flag overrides its environment twin.
	var out syncBuf
	err := run(context.Background(), []string{"serve", "--base-url", "nope"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--base-url") {
		t.Errorf("flag error: %v", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	var out syncBuf
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PORTIER_ADDR", "PORTIER_DATA", "PORTIER_BASE_URL", "PORTIER_SMTP_URL", "PORTIER_MAIL_FROM", "PORTIER_TRUSTED_PROXIES", "backup", "version", "serve"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	out = syncBuf{}
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^portier \S+ \(commit \S+, built \S+\)\n$`).MatchString(out.String()) {
		t.Fatalf("version: %q", out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// `portier serve` without PORTIER_SMTP_URL: the console says so, and a mail queued by `portier invite`
// leaves one log line with recipient and kind, never the link the command printed.
func TestServeWithoutMailServerLogsNoLink(t *testing.T) {
	p := startPortier(t, nil)
	if !strings.Contains(p.Stdout.String(), "No mail server set") {
		t.Errorf("console: %s", p.Stdout.String())
	}
	if _, err := p.cmd(t, "org", "create", "--name", "Muster GmbH"); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd(t, "invite", "--org", "muster-gmbh", "--email", "anna@kunde.example", "--name", "Anna")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^http://localhost:\d+/invite/([A-Za-z0-9_-]{43})$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "pass the link on yourself") {
		t.Fatalf("invite: %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Stderr.String(), "mail could not be sent") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	log := p.Stderr.String()
	if !strings.Contains(log, "to=anna@kunde.example kind=mail.invite") {
		t.Fatalf("log does not name recipient and kind:\n%s", log)
	}
	if strings.Contains(log, m[1]) || strings.Contains(log, "/invite/") {
		t.Fatalf("the invitation link is in the log:\n%s", log)
	}
}

// The server keeps at least two Go processors unless the operator set GOMAXPROCS: with one, a request
// waiting for the disk's sync inside a system call stalls every other (see serverProcs).
func TestServerProcs(t *testing.T) {
	for _, tc := range []struct {
		env           string
		current, want int
		raised        bool
	}{
		{"", 1, 2, true},
		{"", 2, 2, false},
		{"", 8, 8, false},
		{"1", 1, 1, false}, // the operator's choice wins
		{"4", 4, 4, false},
	} {
		if n, raised := serverProcs(tc.env, tc.current); n != tc.want || raised != tc.raised {
			t.Errorf("serverProcs(%q, %d) = %d, %v; want %d, %v", tc.env, tc.current, n, raised, tc.want, tc.raised)
		}
	}
}
