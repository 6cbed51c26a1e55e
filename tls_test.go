package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"portier/auth"
	"portier/db"
)

// testCert is a self-signed certificate (its own root) with its key, both PEM.
type testCert struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
}

func makeCert(t testing.TB, serial int64, notBefore, notAfter time.Time, dnsNames ...string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "Portier test " + fmt.Sprint(serial)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dnsNames,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		cert:    cert,
	}
}

// writeAtomic replaces a file the way renewal tools do (new file, then rename).
func writeAtomic(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func (c testCert) write(t testing.TB, certPath, keyPath string) {
	writeAtomic(t, keyPath, c.keyPEM)
	writeAtomic(t, certPath, c.certPEM)
}

// servedSerial makes a fresh TLS handshake and returns the serial number of the certificate served.
func servedSerial(t testing.TB, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestServeHTTPSWithGivenFiles runs `portier serve` with PORTIER_TLS=files and a certificate made here:
// HTTPS with TLS 1.2 at least, HSTS, Secure cookies, the HTTP listener redirecting to the base URL, and a
// renewed certificate picked up without a restart (a broken one is not).
func TestServeHTTPSWithGivenFiles(t *testing.T) {
	old := certReloadInterval
	certReloadInterval = 300 * time.Millisecond
	t.Cleanup(func() { certReloadInterval = old })

	now := time.Now()
	first := makeCert(t, 1, now.Add(-time.Hour), now.Add(90*24*time.Hour), "localhost")
	renewed := makeCert(t, 2, now.Add(-time.Hour), now.Add(180*24*time.Hour), "localhost")
	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	roots.AddCert(renewed.cert)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	first.write(t, certPath, keyPath)

	httpsPort, httpPort := freePort(t), freePort(t)
	base := fmt.Sprintf("https://localhost:%d", httpsPort)
	addr := fmt.Sprintf("127.0.0.1:%d", httpsPort)
	p := startPortier(t, map[string]string{
		"PORTIER_ADDR":      addr,
		"PORTIER_BASE_URL":  base,
		"PORTIER_TLS":       "files",
		"PORTIER_TLS_CERT":  certPath,
		"PORTIER_TLS_KEY":   keyPath,
		"PORTIER_HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", httpPort),
	})
	if !strings.Contains(p.Stdout.String(), "redirects to "+base) {
		t.Errorf("start-up message does not mention the redirect:\n%s", p.Stdout.String())
	}
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	do := func(req *http.Request) *http.Response {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	// HTTPS with the given certificate, TLS 1.2 or newer, HSTS.
	req, _ := http.NewRequest("GET", base+"/", nil)
	resp := do(req)
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("GET / over HTTPS: %d %+v", resp.StatusCode, resp.TLS)
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 1 {
		t.Fatalf("served certificate %d, want 1", got)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=63072000") {
		t.Fatalf("HSTS: %q", hsts)
	}
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("TLS 1.1 handshake accepted")
	}

	// Plain HTTP: 301 to the same path and query under the base URL, whatever the Host header says.
	for _, method := range []string{"GET", "POST"} {
		req, _ = http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d/login?next=%%2Forgs&x=1", httpPort), nil)
		req.Host = "evil.example"
		resp = do(req)
		if resp.StatusCode != 301 || resp.Header.Get("Location") != base+"/login?next=%2Forgs&x=1" {
			t.Fatalf("%s over HTTP: %d Location %q", method, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// Cookies set over HTTPS are Secure: the language cookie, and the session cookie with the __Host- prefix.
	form := url.Values{"lang": {"de"}, "next": {"/"}}
	req, _ = http.NewRequest("POST", base+"/lang", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp = do(req)
	if ck := cookieNamed(resp, "portier_lang"); ck == nil || !ck.Secure || !ck.HttpOnly || ck.Value != "de" {
		t.Fatalf("language cookie: %d %+v", resp.StatusCode, ck)
	}
	createTestUser(t, p, "anna@muster-it.example", "Zugang-Sicher#2026")
	form = url.Values{"email": {"anna@muster-it.example"}, "password": {"Zugang-Sicher#2026"}}
	req, _ = http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp = do(req)
	if ck := cookieNamed(resp, "__Host-portier_session"); ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || ck.Value == "" {
		t.Fatalf("session cookie after sign-in: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if cookieNamed(resp, "portier_session") != nil {
		t.Fatal("the plain-HTTP session cookie name is used over HTTPS")
	}

	// A broken replacement is logged and the old certificate stays in use.
	writeAtomic(t, certPath, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	time.Sleep(certReloadInterval + 200*time.Millisecond)
	if got := servedSerial(t, addr, roots); got != 1 {
		t.Fatalf("after a broken replacement the server serves %d, want the old 1", got)
	}
	if !strings.Contains(p.Stderr.String(), "cannot be loaded; still serving the previous certificate") {
		t.Fatalf("broken certificate not logged:\n%s", p.Stderr.String())
	}

	// A renewed pair is served after the reload interval, without a restart.
	renewed.write(t, certPath, keyPath)
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, addr, roots) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("renewed certificate not served:\n%s", p.Stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(p.Stderr.String(), "TLS certificate reloaded") {
		t.Fatal("reload not logged")
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// createTestUser makes a person with a password directly in the running portal's database.
func createTestUser(t testing.TB, p *portier, email, password string) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	phc, err := auth.NewHasher(1).Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		id, _, err := db.EnsureUser(ctx, tx, time.Now(), email, "Anna Muster", "en")
		if err != nil {
			return err
		}
		return db.SetPassword(ctx, tx, time.Now(), id, phc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestACMEWiring checks the autocert path without a network: only the base URL's host is allowed, the cache
// is <data>/acme with mode 0700, TLS 1.2 is the minimum with TLS-ALPN challenges enabled, and the HTTP handler
// answers ACME challenges through the manager and redirects everything else to the base URL.
func TestACMEWiring(t *testing.T) {
	data := t.TempDir()
	cfg := testConfig(t, map[string]string{
		"PORTIER_DATA":       data,
		"PORTIER_BASE_URL":   "https://portal.muster-it.example",
		"PORTIER_TLS":        "acme",
		"PORTIER_ACME_EMAIL": "it@muster-it.example",
	})
	if cfg.Addr != ":443" || cfg.HTTPAddr != ":80" {
		t.Fatalf("default addresses with TLS on: %q %q", cfg.Addr, cfg.HTTPAddr)
	}
	setup, err := newTLSSetup(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	m := setup.manager
	if m == nil || setup.config == nil || setup.http == nil {
		t.Fatalf("acme setup incomplete: %+v", setup)
	}
	ctx := context.Background()
	if err := m.HostPolicy(ctx, "portal.muster-it.example"); err != nil {
		t.Fatalf("base host refused: %v", err)
	}
	for _, h := range []string{"evil.example", "muster-it.example", "www.portal.muster-it.example", "127.0.0.1"} {
		if m.HostPolicy(ctx, h) == nil {
			t.Errorf("host policy accepts %s", h)
		}
	}
	// A handshake for another name fails at the policy, before any request to the certificate authority.
	if _, err := setup.config.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example"}); err == nil {
		t.Error("certificate handed out for another host")
	}
	cacheDir := filepath.Join(data, "acme")
	if m.Cache != autocert.DirCache(cacheDir) {
		t.Fatalf("cache: %#v", m.Cache)
	}
	if st, err := os.Stat(cacheDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache folder: %v %v", st, err)
	}
	if m.Email != "it@muster-it.example" || m.Prompt == nil {
		t.Fatalf("contact e-mail %q", m.Email)
	}
	if setup.config.MinVersion != tls.VersionTLS12 || !strings.Contains(strings.Join(setup.config.NextProtos, " "), "acme-tls/1") {
		t.Fatalf("TLS config: min %x, protos %v", setup.config.MinVersion, setup.config.NextProtos)
	}

	// An HTTP-01 challenge token (as the manager stores it while an order runs) is served from the cache.
	if err := m.Cache.Put(ctx, "tok123+http-01", []byte("tok123.keyauth")); err != nil {
		t.Fatal(err)
	}
	serve := func(host, target string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+host+target, nil)
		rec := httptest.NewRecorder()
		setup.http.ServeHTTP(rec, req)
		return rec.Result()
	}
	resp := serve("portal.muster-it.example", "/.well-known/acme-challenge/tok123")
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "tok123.keyauth" {
		t.Fatalf("challenge: %d %q", resp.StatusCode, b)
	}
	if resp := serve("evil.example", "/.well-known/acme-challenge/tok123"); resp.StatusCode != 403 {
		t.Fatalf("challenge for another host: %d", resp.StatusCode)
	}
	resp = serve("evil.example", "/reset/abc?x=1")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://portal.muster-it.example/reset/abc?x=1" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// PORTIER_HTTP_ADDR=off: no plain-HTTP handler (TLS-ALPN challenges on 443 still work).
	cfg.HTTPAddr = ""
	if setup, err := newTLSSetup(cfg, slog.New(slog.DiscardHandler)); err != nil || setup.http != nil {
		t.Fatalf("http-addr off: %v %v", err, setup)
	}
}

// TestTLSSettings checks the validation of the TLS settings: one line naming the setting.
func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	c := makeCert(t, 1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "localhost")
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	c.write(t, certPath, keyPath)
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORTIER_TLS": "yes"}, "PORTIER_TLS"},
		{map[string]string{"PORTIER_TLS": "acme", "PORTIER_BASE_URL": "http://portal.example.com"}, "PORTIER_TLS"},
		{map[string]string{"PORTIER_TLS": "acme", "PORTIER_BASE_URL": "https://10.0.0.5"}, "PORTIER_BASE_URL"},
		{map[string]string{"PORTIER_TLS": "files", "PORTIER_BASE_URL": "https://localhost:8443", "PORTIER_TLS_CERT": certPath}, "PORTIER_TLS_KEY"},
		{map[string]string{"PORTIER_TLS": "files", "PORTIER_BASE_URL": "https://localhost:8443", "PORTIER_TLS_CERT": filepath.Join(dir, "missing.pem"), "PORTIER_TLS_KEY": keyPath}, "PORTIER_TLS_CERT"},
		{map[string]string{"PORTIER_TLS": "files", "PORTIER_BASE_URL": "https://localhost:8443", "PORTIER_TLS_CERT": certPath, "PORTIER_TLS_KEY": keyPath, "PORTIER_HTTP_ADDR": "80"}, "PORTIER_HTTP_ADDR"},
		{map[string]string{"PORTIER_ACME_EMAIL": "nobody"}, "PORTIER_ACME_EMAIL"},
		{map[string]string{"PORTIER_BACKUP_INTERVAL": "10s"}, "PORTIER_BACKUP_INTERVAL"},
		{map[string]string{"PORTIER_BACKUP_KEEP": "0"}, "PORTIER_BACKUP_KEEP"},
		{map[string]string{"PORTIER_REPLICA_SYNC_INTERVAL": "soon"}, "PORTIER_REPLICA_SYNC_INTERVAL"},
		{map[string]string{"PORTIER_REPLICA_DIR": "DATA"}, "PORTIER_REPLICA_DIR"},
		{map[string]string{"PORTIER_BACKUP_DIR": "DATA"}, "PORTIER_BACKUP_DIR"},
	}
	for _, tc := range cases {
		data := t.TempDir()
		env := map[string]string{"PORTIER_DATA": data}
		for k, v := range tc.env {
			if v == "DATA" {
				v = data
			}
			env[k] = v
		}
		_, err := parseTestConfig(env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line naming %s", tc.env, err, tc.want)
		}
	}
	// A valid files configuration; TLS on moves the default address to :443.
	cfg := testConfig(t, map[string]string{"PORTIER_DATA": dir, "PORTIER_TLS": "files", "PORTIER_BASE_URL": "https://localhost:8443",
		"PORTIER_TLS_CERT": certPath, "PORTIER_TLS_KEY": keyPath, "PORTIER_HTTP_ADDR": "off"})
	if cfg.Addr != ":443" || cfg.HTTPAddr != "" || cfg.TLS != "files" {
		t.Fatalf("files config: %+v", cfg)
	}
	// With TLS off there is no plain-HTTP listener.
	cfg = testConfig(t, map[string]string{"PORTIER_DATA": dir})
	if cfg.TLS != "off" || cfg.HTTPAddr != "" || cfg.BackupInterval != 24*time.Hour || cfg.BackupKeep != 14 || cfg.ReplicaSync != time.Second || len(cfg.Replicas) != 0 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func parseTestConfig(env map[string]string) (*config, error) {
	s := newSettings()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.register(fs, func(k string) string { return env[k] })
	if err := fs.Parse(nil); err != nil {
		return nil, err
	}
	return s.parse()
}

func testConfig(t testing.TB, env map[string]string) *config {
	t.Helper()
	cfg, err := parseTestConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
