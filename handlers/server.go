// Package handlers is Portier's HTTP edge: the route table, middleware, the render and redirect helpers,
// the one error handler, and one file per flow.
package handlers

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/admit"
	"portier/audit"
	"portier/auth"
	"portier/avatar"
	"portier/db"
	"portier/docsapp"
	"portier/i18n"
	"portier/idp"
	"portier/mailtext"
	"portier/signin"
	"portier/static"
)

// Config is what the server needs to know about its deployment.
type Config struct {
	BaseURL         *url.URL
	TrustedProxies  []netip.Prefix
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	Logger          *slog.Logger
	Now             func() time.Time

	Sealer         *db.Sealer // the session's sealed values, attachments, identity providers' secrets, the outbox
	PasswordPolicy auth.Policy
	// NoMailServer: no mail server is configured, so no mail reaches anyone. E-mail codes are not offered
	// as a second factor, and staff who invite are shown the link to pass on.
	NoMailServer bool
	IdPEndpoints idp.Endpoints // where Microsoft and Google sign in; default: their public clouds
	// AttachmentMax is the largest file that can be attached to an item (default 25 MB).
	AttachmentMax int64

	// Replicas reports the replication targets' lag for /readyz (ready.go); nil when replication is off.
	Replicas func() []ReplicaState
}

// Services are the application layer the handlers call. main builds them (the command line builds the
// same ones the same way) and hands them in; the handlers build none of them.
type Services struct {
	MSP      *mailtext.CurrentMSP // the MSP's name, contact and logo as last saved
	Mails    *mailtext.Composer   // every mail's words and links
	Accounts *accounts.Accounts   // invitations, organisations, the access policy's facts
	Signin   *signin.Signin       // the password step, second factors, the password change
	Passkeys *signin.Passkeys     // the WebAuthn ceremonies; nil when the base URL is an IP address
	Audit    *audit.Log
	Docs     *docsapp.Service // the documentation of every organisation
}

// Server holds the dependencies of every handler. It is built once by New and is safe for concurrent use.
type Server struct {
	cfg      Config
	gate     *admit.Gate // page work, in arrival order (admit.go)
	db       *db.DB
	i18n     *i18n.Bundle
	assets   *static.Assets
	sm       *scs.SessionManager
	store    *sessionStore
	log      *slog.Logger
	now      func() time.Time
	msp      *mailtext.CurrentMSP // the MSP as last saved
	cop      *http.CrossOriginProtection
	passkeys *signin.Passkeys // the WebAuthn ceremonies; nil when the base URL is an IP address
	docs     *docsapp.Service // the documentation of every organisation
	// avatars makes profile pictures: two decodes at a time (each within avatar.MaxDecodeBytes), a
	// picture waits at most a second for its turn.
	avatars *avatar.Processor
	e       *echo.Echo

	mails    *mailtext.Composer // every mail's words and links
	accounts *accounts.Accounts // invitations, organisations, the access policy's facts
	signin   *signin.Signin     // the password step, second factors, the password change
	audits   *audit.Log

	secure      bool // the base URL is https: Secure cookies, HSTS, __Host- prefix
	cookieLang  string
	cookieTheme string
}

// New builds the server and its route table on the application services svc.
func New(cfg Config, d *db.DB, bundle *i18n.Bundle, assets *static.Assets, svc Services) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.PasswordPolicy.Name == "" {
		cfg.PasswordPolicy = auth.DefaultPolicy()
	}
	if cfg.IdPEndpoints.EntraAuthority == "" {
		cfg.IdPEndpoints.EntraAuthority = idp.DefaultEndpoints.EntraAuthority
	}
	if cfg.IdPEndpoints.GoogleIssuer == "" {
		cfg.IdPEndpoints.GoogleIssuer = idp.DefaultEndpoints.GoogleIssuer
	}
	if cfg.Sealer == nil {
		return nil, errors.New("handlers: a Sealer is required")
	}
	if svc.MSP == nil || svc.Mails == nil || svc.Accounts == nil || svc.Signin == nil || svc.Audit == nil || svc.Docs == nil {
		return nil, errors.New("handlers: every application service but Passkeys is required")
	}
	// Waits for the single writer happen outside the page gate (db/writer.go, admit.go).
	d.SetOutside(admit.Outside)
	s := &Server{
		cfg:      cfg,
		gate:     admit.New(gateSlots(), gateMaxWait),
		db:       d,
		i18n:     bundle,
		assets:   assets,
		log:      cfg.Logger,
		now:      cfg.Now,
		secure:   cfg.BaseURL.Scheme == "https",
		msp:      svc.MSP,
		mails:    svc.Mails,
		accounts: svc.Accounts,
		signin:   svc.Signin,
		passkeys: svc.Passkeys,
		audits:   svc.Audit,
		docs:     svc.Docs,
		avatars:  avatar.New(2, time.Second),
	}
	s.cookieLang, s.cookieTheme = "portier_lang", "portier_theme"

	s.store = newSessionStore(d, s.log)
	s.sm = scs.New()
	s.sm.Store = s.store
	s.sm.Codec = sessionCodec{} // session_codec.go; sessions gob wrote still read
	s.sm.Lifetime = cfg.SessionLifetime
	// Idle expiry is enforced by our middleware (see session.go), not by scs: scs's IdleTimeout rewrites the
	// session row on every request.
	s.sm.IdleTimeout = 0
	s.sm.Cookie.HttpOnly = true
	s.sm.Cookie.Path = "/"
	s.sm.Cookie.SameSite = http.SameSiteLaxMode
	s.sm.Cookie.Persist = false
	if s.secure {
		// __Host- binds the cookie to this exact host, path / and https (RFC 6265bis).
		s.sm.Cookie.Name = "__Host-portier_session"
		s.sm.Cookie.Secure = true
	} else {
		s.sm.Cookie.Name = "portier_session"
	}

	s.cop = http.NewCrossOriginProtection()
	if err := s.cop.AddTrustedOrigin(cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host); err != nil {
		return nil, err
	}

	s.e = echo.New()
	s.e.Logger = s.log
	s.e.HTTPErrorHandler = s.handleError
	s.e.IPExtractor = s.ipExtractor()
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the whole application.
func (s *Server) Handler() http.Handler { return s.e }

// Close stops background work of the server (the expired-session cleanup).
func (s *Server) Close() { s.store.close() }

// ipExtractor returns the socket address as the client address, unless trusted proxies are configured:
// then X-Forwarded-For is believed only as far as it was written by those proxies.
func (s *Server) ipExtractor() echo.IPExtractor {
	if len(s.cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range s.cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
