package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"portier/i18n"
)

// Body limits: form posts are small; uploads (avatars, CSV imports) get their own, slightly larger limit.
const (
	maxFormBody   = 1 << 20
	maxUploadBody = 3 << 20
)

// headAsGet answers HEAD as GET (RFC 9110: a server that answers GET answers HEAD; uptime monitors often
// ask with HEAD): the request is routed and handled as a GET — the same checks, status and headers, the
// page's length included — and net/http, which still holds the HEAD request it read, sends no body. It
// runs before routing (Echo's Pre), so no route is registered twice.
func (s *Server) headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			g := r.WithContext(r.Context()) // a copy: net/http keeps its own, still HEAD
			g.Method = http.MethodGet
			c.SetRequest(g)
			c.Set(ctxHead, true)
		}
		return next(c)
	}
}

// ctxHead marks a HEAD request answered as GET, for the request log.
const ctxHead = "portier.head"

// isHead reports a HEAD answered as GET, for the request log. No GET uses anything up (a one-time link's
// page only looks; its button POSTs), so a HEAD needs no handling of its own.
func isHead(c *echo.Context) bool {
	head, _ := c.Get(ctxHead).(bool)
	return head
}

// logRequests writes one line per request. It logs the route pattern, never the raw path or query, so a
// token in a link (/invite/<token>) never reaches the log.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Echo().HTTPErrorHandler(c, err)
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		_, status := echo.ResolveResponseStatus(c.Response(), nil)
		s.log.Info("http", "method", requestMethod(c), "route", route, "status", status,
			"dur_ms", float64(time.Since(start).Microseconds())/1000, "ip", c.RealIP())
		return nil
	}
}

// requestMethod is the method the client sent, for the logs: HEAD for a HEAD answered as GET.
func requestMethod(c *echo.Context) string {
	if isHead(c) {
		return http.MethodHead
	}
	return c.Request().Method
}

const ctxNonce = "portier.nonce"

// securityHeaders sets the headers of security.md on every response, with a fresh CSP nonce per request.
// Responses are no-store unless a handler says otherwise (only the hashed static files do).
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var nb [18]byte
		_, _ = rand.Read(nb[:])
		nonce := base64.StdEncoding.EncodeToString(nb[:])
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; "+
			"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		c.Set(ctxNonce, nonce)
		r := c.Request()
		c.SetRequest(r.WithContext(templ.WithNonce(r.Context(), nonce)))
		return next(c)
	}
}

// errCrossOrigin is returned for state-changing requests from another site.
var errCrossOrigin = errors.New("cross-origin request refused")

// crossOrigin refuses state-changing cross-site requests with Go's CrossOriginProtection, which reads
// Sec-Fetch-Site and Origin (every current browser sends one of them).
func (s *Server) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if err := s.cop.Check(c.Request()); err != nil {
			return echo.ErrForbidden.Wrap(errCrossOrigin)
		}
		return next(c)
	}
}

// limitBody refuses bodies over the limit: at once when Content-Length says so, otherwise when reading
// goes past it (the form parser then reports *http.MaxBytesError, mapped to 413). URL-encoded forms are
// read here, before any handler: a form that is too large (sent without a length) or badly encoded is
// refused with 413 or 400, instead of reaching a handler as empty fields (c.FormValue drops the error,
// so a sign-in would have counted as a failed attempt).
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		limit := int64(maxFormBody)
		// Only the upload forms take more; any other form sent as multipart keeps the form limit.
		if isMultipart(r.Header.Get("Content-Type")) && uploadRoutes[c.Path()] {
			limit = maxUploadBody
			if c.Path() == attachmentRoute || c.Path() == articleAttachmentRoute {
				limit = s.attachmentMax() + uploadOverhead // only the attachment upload takes files this large
			}
		}
		if r.ContentLength > limit {
			return echo.ErrStatusRequestEntityTooLarge
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		if !uploadRoutes[c.Path()] {
			// Every other body (a multipart form, a passkey's JSON) is read whole here as well, before the
			// gate (admit.go): read by the handler, a body sent slowly would hold a place at the gate until
			// the server's read timeout, and a few such requests would keep every page out. It is at most
			// maxFormBody, as an URL-encoded form read below.
			b, err := io.ReadAll(r.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return err
				}
				return echo.ErrBadRequest.Wrap(err)
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return err
				}
				return echo.ErrBadRequest.Wrap(err)
			}
		}
		return next(c)
	}
}

// uploadRoutes are the routes whose forms carry a file: the profile picture, the CSV import, the MSP's
// logo in the setup step, and an item's or document's attachment (which take the attachment size limit
// instead).
var uploadRoutes = map[string]bool{"/profile/avatar": true, "/o/:slug/import/:area": true, "/staff/welcome": true, attachmentRoute: true,
	articleAttachmentRoute: true}

func isMultipart(ct string) bool {
	return len(ct) >= 19 && ct[:19] == "multipart/form-data"
}

// locale chooses the language: the person's saved choice (applied later, once the session is known), then
// the language cookie, then Accept-Language, then German. The last three are looked at only if a page asks
// before (or without) a signed-in person.
func (s *Server) locale(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(i18n.WithLocalizerFunc(r.Context(), func() *i18n.Localizer { return s.requestLocalizer(r) })))
		return next(c)
	}
}

func (s *Server) requestLocalizer(r *http.Request) *i18n.Localizer {
	lang := ""
	if ck, err := r.Cookie(s.cookieLang); err == nil && i18n.Supported(ck.Value) {
		lang = ck.Value
	} else {
		lang = s.i18n.Negotiate(r.Header.Get("Accept-Language"))
	}
	return s.i18n.For(lang, "")
}
