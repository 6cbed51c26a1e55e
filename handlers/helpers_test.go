package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/accounts"
	"portier/audit"
	"portier/auth"
	"portier/db"
	"portier/docsapp"
	"portier/i18n"
	"portier/mailtext"
	"portier/signin"
	"portier/static"
	"portier/testkit"
	"portier/views"
)

// testEnv is the real router on a temp SQLite file, served on loopback, with a cookie-jar client.
type testEnv struct {
	t      *testing.T
	tc     testConfig // what srv was built from (newServer builds another on it: a restart)
	srv    *Server
	db     *db.DB
	ts     *httptest.Server
	client *http.Client
	logBuf *syncBuf
	clock  *clock
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// newClock starts at now in the time zone of the fixtures' people (testkit.Now), or at PORTIER_TEST_NOW.
func newClock() *clock { return &clock{t: testkit.Now()} }

func (e *testEnv) URL(path string) string { return e.ts.URL + path }

// testConfig is the server's Config with what the application services are built from.
type testConfig struct {
	Config
	MSP    views.MSP    // the MSP until an administrator saves other values
	Hasher *auth.Hasher // nil: auth.NewHasher(0)
}

type envOption func(*testConfig)

// newServer builds the application services as main does (services.go: the same constructors, the same
// dependencies) and the server on them: the one way the tests build a Server.
func newServer(tc testConfig, d *db.DB, bundle *i18n.Bundle, assets *static.Assets) (*Server, error) {
	ctx := context.Background()
	if tc.Hasher == nil {
		tc.Hasher = auth.NewHasher(0)
	}
	var wake func() // the tests run no mail worker to wake
	msp, err := mailtext.LoadCurrentMSP(ctx, d, tc.MSP)
	if err != nil {
		return nil, err
	}
	mails := mailtext.New(bundle, tc.BaseURL, msp.Get)
	si := signin.New(d, tc.Sealer, tc.Hasher, mails, signin.Config{Now: tc.Now, Wake: wake, Logger: tc.Logger})
	passkeys, err := signin.NewPasskeys(d, si, signin.PasskeyConfig{BaseURL: tc.BaseURL, DisplayName: msp.Get().Name, Now: tc.Now, Logger: tc.Logger})
	if err != nil && !errors.Is(err, signin.ErrNoPasskeys) {
		return nil, err
	}
	return New(tc.Config, d, bundle, assets, Services{
		MSP: msp, Mails: mails, Signin: si, Passkeys: passkeys,
		Accounts: accounts.New(d, tc.Sealer, tc.Hasher, mails, accounts.Config{Now: tc.Now, Wake: wake, Logger: tc.Logger}),
		Audit:    audit.New(d, tc.Logger),
		Docs:     docsapp.New(d, tc.Sealer, tc.Now, bundle, tc.Logger, mails, wake),
	})
}

func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuf{}
	ck := newClock()
	d.Now = ck.Now
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	sealer, err := db.NewSealer(bytes.Repeat([]byte{42}, db.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig{Config: Config{
		Sealer:  sealer,
		BaseURL: base,
		Logger:  slog.New(slog.NewTextHandler(io.MultiWriter(logBuf), nil)),
		Now:     ck.Now,
	}, MSP: views.MSP{Name: "Muster IT", SupportEmail: "support@muster-it.example", SupportPhone: "+49 30 1234567"}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Hasher == nil {
		cfg.Hasher = auth.NewHasher(0)
	}
	s, err := newServer(cfg, d, bundle, assets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testEnv{t: t, tc: cfg, srv: s, db: d, ts: ts, client: client, logBuf: logBuf, clock: ck}
}

// do sends a request with the env's cookie jar and returns status, headers and body.
func (e *testEnv) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL(path), body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method == http.MethodPost && hdr["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

func (e *testEnv) get(path string, hdr map[string]string) (*http.Response, string) {
	return e.do(http.MethodGet, path, nil, hdr)
}

func (e *testEnv) post(path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	return e.do(http.MethodPost, path, strings.NewReader(form.Encode()), hdr)
}

// confirmAddress opens a confirmation link as a person does: its page shows the address and a button,
// and the button's form is sent. It returns the page when the link does not work, else the answer to the
// button.
func (e *testEnv) confirmAddress(t *testing.T, link string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	resp, body := e.get(link, hdr)
	if resp.StatusCode != http.StatusOK {
		return resp, body
	}
	action, ok := doc(t, body).Find(`[data-testid="confirm-ask"] form[method="post"]`).Attr("action")
	if !ok {
		t.Fatalf("no confirmation form on %s: %.300s", link, body)
	}
	return e.post(action, nil, hdr)
}

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

// routeURL is a route's path with its parameters filled in: each from vals, else "1"; a wildcard from
// vals["*"], else "x".
func routeURL(path string, params []string, vals map[string]string) string {
	for _, p := range params {
		v, ok := vals[p]
		if !ok {
			v = "1"
		}
		path = strings.Replace(path, ":"+p, v, 1)
	}
	w, ok := vals["*"]
	if !ok {
		w = "x"
	}
	return strings.ReplaceAll(path, "*", w)
}
