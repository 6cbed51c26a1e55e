package handlers

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"portier/i18n"
	"portier/views"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// isFragment is Pagoda's rule: an htmx request that is not boosted and not a history restore wants only
// the fragment; everything else gets the full page.
func isFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" &&
		r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes full for normal requests and fragment for htmx requests (fragment may be nil when a URL
// only answers with full pages). It renders into a buffer first, so a failing component never sends half a
// page, and saves the session before the first byte.
func (s *Server) render(c *echo.Context, status int, full, fragment templ.Component) error {
	r := c.Request()
	comp := full
	if fragment != nil {
		c.Response().Header().Add("Vary", "HX-Request")
		if isFragment(r) {
			comp = fragment
		}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := comp.Render(r.Context(), buf); err != nil {
		return err
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page is whole: its length goes ahead of it, so net/http sends it as it is instead of in chunks
	// (one write to the connection fewer per page, and the client knows when it has all of it).
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// redirect sends the browser to target: HX-Redirect for htmx requests (htmx does not follow a 303 for the
// whole page), 303 See Other otherwise, so a POST is followed by a GET.
func (s *Server) redirect(c *echo.Context, target string) error {
	if err := s.saveSession(c); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// safeNext returns next when it is a path on this site, and fallback otherwise: absolute URLs,
// scheme-relative //host, backslash tricks and control characters are refused.
func safeNext(next, fallback string) string {
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\x00\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// shell builds what the page layout needs for this request.
func (s *Server) shell(c *echo.Context, title string) views.Shell {
	r := c.Request()
	theme := ""
	if u := currentUser(c); u != nil {
		// A signed-in person's saved choice wins over the cookie ("" follows the system).
		theme = u.Theme
	} else if ck, err := r.Cookie(s.cookieTheme); err == nil && (ck.Value == "light" || ck.Value == "dark") {
		theme = ck.Value
	}
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	// The provider's answer (code and state) stays out of the page's language and theme forms, and going
	// back there could only replay it.
	if r.Method != http.MethodGet || r.URL.Path == "/oidc/callback" {
		path = "/"
	}
	return views.Shell{
		Title:  title,
		MSP:    *s.msp.Load(),
		Assets: views.Assets{Pico: s.assets.URL("pico.min.css"), App: s.assets.URL("app.css"), HTMX: s.assets.URL("htmx.min.js"), Icon: s.assets.URL("favicon.svg"), Copy: s.assets.URL("copy.js")},
		Lang:   i18n.From(r.Context()).Lang,
		Theme:  theme,
		Path:   path,
		User:   s.shellUser(c),
	}
}
