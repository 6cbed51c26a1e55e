package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// certReloadInterval is how often the given certificate files are looked at for a change (modification
// time and size). Checked inside the TLS handshake, so no watcher goroutine is needed. A variable so that
// tests can shorten it.
var certReloadInterval = 10 * time.Second

// tlsSetup is what serve needs for the configured TLS mode.
type tlsSetup struct {
	config  *tls.Config       // nil when TLS is off
	http    http.Handler      // for the plain-HTTP listener: ACME challenges (acme) and the redirect
	manager *autocert.Manager // acme only
	certs   *certReloader     // files only
}

// newTLSSetup builds the TLS configuration of cfg.TLS. TLS 1.2 is the minimum (1.0 and 1.1 are deprecated
// by RFC 8996).
func newTLSSetup(cfg *config, logger *slog.Logger) (*tlsSetup, error) {
	redirect := redirectHandler(cfg.BaseURL)
	switch cfg.TLS {
	case "acme":
		m, err := newACMEManager(cfg)
		if err != nil {
			return nil, err
		}
		tc := m.TLSConfig() // GetCertificate, plus the acme-tls/1 protocol for TLS-ALPN challenges
		tc.MinVersion = tls.VersionTLS12
		st := &tlsSetup{config: tc, manager: m}
		if cfg.HTTPAddr != "" {
			// Serves /.well-known/acme-challenge/ (and enables HTTP-01 challenges); everything else is redirected.
			st.http = m.HTTPHandler(redirect)
		}
		return st, nil
	case "files":
		r, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, certReloadInterval, logger)
		if err != nil {
			return nil, err
		}
		return &tlsSetup{
			config: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate},
			http:   redirect,
			certs:  r,
		}, nil
	default:
		return &tlsSetup{}, nil
	}
}

// newACMEManager obtains and renews the certificate of the base URL's host, and only of that host: a
// request naming any other host never makes it ask the certificate authority. Account key and
// certificates are cached in <data>/acme (0700), so a restart does not ask again.
func newACMEManager(cfg *config) (*autocert.Manager, error) {
	dir := filepath.Join(cfg.DataDir, "acme")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ACME cache folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ACME cache folder: %w", err)
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(cfg.BaseURL.Hostname()),
		Cache:      autocert.DirCache(dir),
		Email:      cfg.ACMEEmail,
	}, nil
}

// redirectHandler sends every plain-HTTP request to the same path and query under the https base URL with
// 301. The request's Host header is ignored: the target is always the configured base URL, so the redirect
// cannot be pointed at another site.
func redirectHandler(base *url.URL) http.Handler {
	target := "https://" + base.Host
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.RequestURI()
		if !strings.HasPrefix(uri, "/") {
			uri = "/"
		}
		http.Redirect(w, r, target+uri, http.StatusMovedPermanently)
	})
}

// certReloader serves a certificate from files and picks up a renewed pair (certbot, an internal CA) without
// a restart. A pair that fails to load is logged and the previous certificate stays in use.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp
	checked time.Time
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func newCertReloader(certFile, keyFile string, every time.Duration, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: every, log: logger, now: time.Now}
	stamp, err := r.statFiles()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("setting PORTIER_TLS_CERT/PORTIER_TLS_KEY (--tls-cert/--tls-key): %w", err)
	}
	r.cert, r.stamp, r.checked = cert, stamp, r.now()
	return r, nil
}

func (r *certReloader) statFiles() (fileStamp, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}

// load reads and checks the pair: the key must match the certificate.
func (r *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, err
	}
	return &cert, nil
}

// GetCertificate is the tls.Config hook. At most every r.every it compares the files' stamps with those of
// the loaded pair and loads the new pair when they changed.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.every {
		r.checked = now
		r.reloadIfChanged()
	}
	return r.cert, nil
}

func (r *certReloader) reloadIfChanged() {
	// Stat before reading: a change during the read is then seen at the next check.
	stamp, err := r.statFiles()
	if err != nil {
		r.log.Error("TLS certificate files cannot be read; still serving the previous certificate", "err", err)
		return
	}
	if stamp == r.stamp {
		return
	}
	// Remember the new stamp even if loading fails: a half-written pair is retried when a file changes
	// again, not logged every interval.
	r.stamp = stamp
	cert, err := r.load()
	if err != nil {
		r.log.Error("TLS certificate files changed but cannot be loaded; still serving the previous certificate",
			"cert", r.certFile, "key", r.keyFile, "err", err)
		return
	}
	r.cert = cert
	attrs := []any{"cert", r.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	r.log.Info("TLS certificate reloaded", attrs...)
}

// web is the running HTTP side of serve: the main server (HTTPS when TLS is on) and, with TLS, the
// plain-HTTP server that redirects and answers ACME challenges.
type web struct {
	main, redirect *http.Server
	redirectAddr   net.Addr
	cfg            *config
}

// startWeb serves hs on ln — over TLS when configured — and starts the plain-HTTP listener. Serve errors
// other than a normal shutdown are sent to errc.
func startWeb(cfg *config, st *settings, hs *http.Server, ln net.Listener, logger *slog.Logger, errc chan<- error) (*web, error) {
	serve := func(f func() error) {
		go func() {
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				select {
				case errc <- err:
				default:
				}
			}
		}()
	}
	w := &web{main: hs, cfg: cfg}
	setup, err := newTLSSetup(cfg, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if setup.config == nil {
		serve(func() error { return hs.Serve(ln) })
		return w, nil
	}
	hs.TLSConfig = setup.config
	if cfg.HTTPAddr != "" && setup.http != nil {
		hln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("setting %s: %w", st.name("http-addr"), err)
		}
		w.redirect = &http.Server{
			Handler:           setup.http,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          hs.ErrorLog,
		}
		w.redirectAddr = hln.Addr()
		serve(func() error { return w.redirect.Serve(hln) })
	}
	serve(func() error { return hs.ServeTLS(ln, "", "") })
	if setup.manager != nil {
		go prefetchCertificate(setup.manager, cfg.BaseURL.Hostname(), logger)
	}
	return w, nil
}

// prefetchCertificate asks for the certificate right after start, as a modern browser's handshake would
// (ECDSA), so that the first visitor does not wait for the certificate authority and a problem (DNS not
// pointing here, port 80/443 closed) shows in the log at once. From the cache this costs nothing.
func prefetchCertificate(m *autocert.Manager, host string, logger *slog.Logger) {
	start := time.Now()
	cert, err := m.GetCertificate(&tls.ClientHelloInfo{
		ServerName:        host,
		SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:   []tls.CurveID{tls.CurveP256},
		CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
	})
	if err != nil {
		logger.Error("ACME certificate not obtained yet; the next HTTPS request tries again. Check that DNS points here and ports 80 and 443 are open",
			"host", host, "err", err)
		return
	}
	attrs := []any{"host", host, "dur_ms", time.Since(start).Milliseconds()}
	if cert.Leaf != nil {
		attrs = append(attrs, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	logger.Info("ACME certificate ready", attrs...)
}

// String describes the TLS side for the start-up message ("" when TLS is off).
func (w *web) String() string {
	switch {
	case w.cfg.TLS == "off":
		return ""
	case w.redirect != nil:
		return fmt.Sprintf("HTTPS with %s certificate; HTTP on %s redirects to %s", w.mode(), w.redirectAddr, w.cfg.BaseURL)
	default:
		return fmt.Sprintf("HTTPS with %s certificate; no plain-HTTP listener (PORTIER_HTTP_ADDR=off)", w.mode())
	}
}

func (w *web) mode() string {
	if w.cfg.TLS == "acme" {
		return "an ACME (Let's Encrypt)"
	}
	return "the given"
}

// Shutdown stops both servers, letting requests in flight finish.
func (w *web) Shutdown(ctx context.Context) error {
	var errs []error
	if w.redirect != nil {
		errs = append(errs, w.redirect.Shutdown(ctx))
	}
	errs = append(errs, w.main.Shutdown(ctx))
	return errors.Join(errs...)
}
