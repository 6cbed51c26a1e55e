package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"portier/i18n"
	"portier/views"
)

func (s *Server) welcome(c *echo.Context) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.Welcome(s.shell(c, l.T("welcome.page_title"))), nil)
}

// setLanguage stores the chosen language in a cookie (and, once signed in, in the profile) and goes back.
func (s *Server) setLanguage(c *echo.Context) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return echo.ErrBadRequest
	}
	if u := currentUser(c); u != nil {
		if err := s.db.SetUserLang(c.Request().Context(), u.ID, lang); err != nil {
			return err
		}
	}
	s.setPrefCookie(c, s.cookieLang, lang)
	return s.redirect(c, safeNext(c.FormValue("next"), "/"))
}

// setPrefCookie keeps a display choice (the language, the theme) in its cookie for a year; an empty value
// removes the cookie ("follow the system"). The language cookie is what the answers before the session (and
// every page for someone signed out) speak: the switch, the profile and loadUser, which keeps it the
// signed-in person's, set it.
func (s *Server) setPrefCookie(c *echo.Context, name, value string) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if value == "" {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

// setTheme stores light, dark or "follow the system" in a cookie and goes back.
func (s *Server) setTheme(c *echo.Context) error {
	theme := c.FormValue("theme")
	if theme != "" && theme != "light" && theme != "dark" {
		return echo.ErrBadRequest
	}
	if u := currentUser(c); u != nil {
		// The saved choice wins over the cookie in the layout, so the switch must change it too.
		if err := s.db.SetUserTheme(c.Request().Context(), u.ID, theme); err != nil {
			return err
		}
	}
	s.setPrefCookie(c, s.cookieTheme, theme)
	return s.redirect(c, safeNext(c.FormValue("next"), "/"))
}

// healthz answers 200 when the database answers.
func (s *Server) healthz(c *echo.Context) error {
	if err := s.db.Ping(c.Request().Context()); err != nil {
		s.log.Error("healthz", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// staticFile serves an embedded file by its content-hashed name, cacheable for a year.
func (s *Server) staticFile(c *echo.Context) error {
	a, ok := s.assets.ByHashed(c.Param("name"))
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(a.Body))) // said, not chunked: the file is in memory whole
	return c.Blob(http.StatusOK, a.ContentType, a.Body)
}
