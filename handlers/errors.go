package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"portier/admit"
	"portier/db"
	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// tooMany is returned when a throttle refuses a request; the error page carries Retry-After.
type tooMany struct{ retryAfter time.Duration }

func (e *tooMany) Error() string   { return "too many requests" }
func (e *tooMany) StatusCode() int { return http.StatusTooManyRequests }

// explained is an error whose page tells, in its own words, what happened; the status stays that of the
// error it wraps. With a link, the page leads there (where the person can do what the text asks, say the
// list they came from) instead of to the start page; errorKind keeps only a path on this site.
type explained struct {
	err               error
	titleKey, textKey string
	linkKey, linkHref string // optional
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// errorKind maps an error to its status and the texts of its page. This is the only place where errors
// become statuses.
func errorKind(err error) views.ErrorView {
	status := http.StatusInternalServerError
	var mbe *http.MaxBytesError
	if db.StorageTrouble(err) {
		// A full or read-only disk: nothing was stored, viewing still works, and writes work again once
		// there is space. Say so, instead of "something went wrong".
		return views.ErrorView{Status: http.StatusServiceUnavailable, TitleKey: "error.storage.title", TextKey: "error.storage.text"}
	}
	if errors.Is(err, admit.ErrBusy) {
		return views.ErrorView{Status: http.StatusServiceUnavailable, TitleKey: "error.busy.title", TextKey: "error.busy.text"}
	}
	switch {
	case errors.Is(err, db.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, db.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, docsapp.ErrInvalid):
		status = http.StatusBadRequest
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	default:
		if sc := echo.StatusCode(err); sc != 0 {
			status = sc
		}
	}
	v := views.ErrorView{Status: status}
	switch status {
	case http.StatusBadRequest:
		v.TitleKey, v.TextKey = "error.400.title", "error.400.text"
	case http.StatusForbidden:
		v.TitleKey, v.TextKey = "error.403.title", "error.403.text"
	case http.StatusNotFound:
		v.TitleKey, v.TextKey = "error.404.title", "error.404.text"
	case http.StatusMethodNotAllowed:
		v.TitleKey, v.TextKey = "error.405.title", "error.405.text"
	case http.StatusConflict:
		v.TitleKey, v.TextKey = "error.409.title", "error.409.text"
	case http.StatusRequestEntityTooLarge:
		v.TitleKey, v.TextKey = "error.413.title", "error.413.text"
	case http.StatusTooManyRequests:
		v.TitleKey, v.TextKey = "error.429.title", "error.429.text"
	case http.StatusServiceUnavailable:
		v.TitleKey, v.TextKey = "error.503.title", "error.503.text"
	default:
		if status < 400 || status > 599 {
			v.Status = http.StatusInternalServerError
		}
		if v.Status >= 500 {
			v.TitleKey, v.TextKey = "error.500.title", "error.500.text"
		} else {
			v.TitleKey, v.TextKey = "error.400.title", "error.400.text"
		}
	}
	if ex := (*explained)(nil); errors.As(err, &ex) && v.Status < 500 {
		v.TitleKey, v.TextKey = ex.titleKey, ex.textKey
		if href := safeNext(ex.linkHref, ""); href != "" && ex.linkKey != "" {
			v.LinkKey, v.LinkHref = ex.linkKey, href
		}
	}
	return v
}

// handleError is echo's error handler: a localized page (or fragment for htmx) with the right status;
// the cause goes to the log, never to the page.
func (s *Server) handleError(c *echo.Context, err error) {
	if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil && resp.Committed {
		s.log.Error("error after response was sent", "route", c.Path(), "err", err)
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away (closed the tab, cancelled): nobody reads an answer, and it is no server
		// error. 499 is nginx's "client closed request", for the request log.
		if st, _ := c.Get(ctxSessionState).(*sessionState); st != nil {
			st.committed = true
		}
		c.Response().WriteHeader(499)
		return
	}
	v := errorKind(err)
	if v.Status >= 500 {
		s.log.Error("request failed", "method", requestMethod(c), "route", c.Path(), "err", err)
		// What the failed request put into the session is not saved and no cookie is set: a sign-in whose
		// writes failed must not leave a signed-in session behind (fail closed).
		if st, _ := c.Get(ctxSessionState).(*sessionState); st != nil {
			st.committed = true
		}
	}
	if errors.Is(err, admit.ErrBusy) {
		c.Response().Header().Set("Retry-After", "2")
	}
	var tm *tooMany
	if errors.As(err, &tm) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(tm.retryAfter.Round(time.Second).Seconds())))
	}
	// A request refused before the locale middleware ran still gets its language.
	r := c.Request()
	if !i18n.Has(r.Context()) {
		c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), s.requestLocalizer(r))))
	}
	title := i18n.From(c.Request().Context()).T(v.TitleKey)
	if rerr := s.render(c, v.Status, views.ErrorPage(s.shell(c, title), v), views.ErrorFragment(v)); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		c.Response().Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.Response().WriteHeader(v.Status)
		_, _ = c.Response().Write([]byte(http.StatusText(v.Status)))
	}
}

// ipThrottled answers 429 when the client address failed too often lately (db.IPBlocked); for requests
// that do not reserve an attempt of their own before acting.
func (s *Server) ipThrottled(c *echo.Context) error {
	wait, err := s.db.IPBlocked(c.Request().Context(), c.RealIP())
	if err != nil || wait <= 0 {
		return err
	}
	return &tooMany{retryAfter: wait}
}
