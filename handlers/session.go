package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v5"

	"portier/db"
)

// sessionStore is scs's SQLite store, with lookups on the reader pool and writes on the single writer, so
// that loading a session never waits behind a write.
type sessionStore struct {
	d *db.DB
	w *sqlite3store.SQLite3Store
}

func newSessionStore(d *db.DB) *sessionStore {
	return &sessionStore{
		d: d,
		w: sqlite3store.NewWithCleanupInterval(d.W, 10*time.Minute),
	}
}

// Find reads through db.FindSession: the store's own Find, with a prepared statement.
func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	return s.d.FindSession(context.Background(), token)
}

// FindCtx (which scs prefers to Find) reads the session and the person it belongs to in one query, and
// leaves the person for loadUser in the request's prefetch slot: one query per request fewer.
func (s *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, found, u, err := s.d.FindSessionUser(ctx, token)
	if p, ok := ctx.Value(prefetchKey{}).(*prefetch); ok && u != nil {
		p.user = u
	}
	return b, found, err
}

// prefetch carries what the session lookup read along for later middleware of the same request.
type prefetch struct{ user *db.User }

type prefetchKey struct{}

// prefetchedUser returns the person read with the session, if it is the one with id uid.
func prefetchedUser(ctx context.Context, uid int64) *db.User {
	if p, ok := ctx.Value(prefetchKey{}).(*prefetch); ok && p.user != nil && p.user.ID == uid {
		return p.user
	}
	return nil
}
func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.w.Commit(token, b, expiry)
}
func (s *sessionStore) Delete(token string) error { return s.w.Delete(token) }
func (s *sessionStore) stop()                     { s.w.StopCleanup() }

// Session keys.
const (
	keySeen = "seen" // last time the session was used, for the idle timeout
)

// touchEvery is how stale the "seen" time may get before it is written again. Writing it on every request
// would cost a database write per page view for no gain in safety worth having.
const touchEvery = time.Minute

type sessionState struct{ committed bool }

const ctxSessionState = "portier.session"

// sessionMiddleware loads the session from its cookie, ends it after the idle timeout, and makes sure a
// modified session is saved before the response is written. The render and redirect helpers save it
// explicitly so that a failed save becomes an error page; the Before hook covers every other response.
func (s *Server) sessionMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		c.Response().Header().Add("Vary", "Cookie")
		var token string
		if ck, err := r.Cookie(s.sm.Cookie.Name); err == nil {
			token = ck.Value
		}
		ctx, err := s.sm.Load(context.WithValue(r.Context(), prefetchKey{}, &prefetch{}), token)
		if err != nil {
			return err
		}
		now := s.now()
		if seen := s.seen(ctx); !seen.IsZero() && now.Sub(seen) > s.cfg.SessionIdle {
			if err := s.sm.Destroy(ctx); err != nil {
				return err
			}
		}
		if len(s.sm.Keys(ctx)) > 0 && now.Sub(s.seen(ctx)) >= touchEvery {
			s.sm.Put(ctx, keySeen, now.Unix())
		}
		c.SetRequest(r.WithContext(ctx))
		st := &sessionState{}
		c.Set(ctxSessionState, st)
		if resp, err := echo.UnwrapResponse(c.Response()); err == nil {
			resp.Before(func() {
				if err := s.saveSession(c); err != nil {
					s.log.Error("session save", "err", err)
				}
			})
		}
		return next(c)
	}
}

// saveSession writes the session (if it changed) and its cookie. Safe to call more than once.
func (s *Server) saveSession(c *echo.Context) error {
	st, _ := c.Get(ctxSessionState).(*sessionState)
	if st == nil || st.committed {
		return nil
	}
	ctx := c.Request().Context()
	switch s.sm.Status(ctx) {
	case scs.Modified:
		if len(s.sm.Keys(ctx)) > 0 && !s.sm.Exists(ctx, keySeen) {
			s.sm.Put(ctx, keySeen, s.now().Unix())
		}
		token, expiry, err := s.sm.Commit(ctx)
		if err != nil {
			if r := c.Request(); db.StorageTrouble(err) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				// The disk is full or read-only: a page view still shows; what it changed in the session
				// (a flash read, the last-seen time) is simply not kept. Writes (POST) fail as they should.
				s.log.Warn("session not saved", "err", err)
				st.committed = true
				return nil
			}
			return err
		}
		s.sm.WriteSessionCookie(ctx, c.Response(), token, expiry)
	case scs.Destroyed:
		s.sm.WriteSessionCookie(ctx, c.Response(), "", time.Time{})
	}
	st.committed = true
	return nil
}

// seen is the last time the session was used (stored as Unix seconds: gob needs no registration for it).
func (s *Server) seen(ctx context.Context) time.Time {
	v := s.sm.GetInt64(ctx, keySeen)
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0)
}
