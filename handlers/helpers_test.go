package handlers

import (
	"bytes"
	"context"
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

	"portier/db"
	"portier/i18n"
	"portier/static"
	"portier/views"
)

// testEnv is the real router on a temp SQLite file, served on loopback, with a cookie-jar client.
type testEnv struct {
	t      *testing.T
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

func (c *clock) Now() time.Time           { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration)  { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                    { return &clock{t: time.Now()} }
func (e *testEnv) URL(path string) string { return e.ts.URL + path }

type envOption func(*Config)

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
	cfg := Config{
		Sealer:  sealer,
		BaseURL: base,
		MSP:     views.MSP{Name: "Muster IT", SupportEmail: "support@muster-it.example", SupportPhone: "+49 30 1234567"},
		Logger:  slog.New(slog.NewTextHandler(io.MultiWriter(logBuf), nil)),
		Now:     ck.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg, d, bundle, assets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ts.Config.Handler = s.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testEnv{t: t, srv: s, db: d, ts: ts, client: client, logBuf: logBuf, clock: ck}
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

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }
