package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v5"

	"portier/db"
)

// sessionStore is Portier's scs store over db/ (sessions.go there): the database keeps only the SHA-256 of
// each token, lookups go to the reader pool and writes to the single writer, and a save never brings back
// a session that was ended while one of its requests was running. scs's own SQLite store could not do the
// last two: it keys rows by the bearer token and saves with an insert-or-replace.
type sessionStore struct {
	d        *db.DB
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// sessionCleanupEvery is how often expired sessions are deleted (the lookups ignore expired rows anyway).
const sessionCleanupEvery = 10 * time.Minute

func newSessionStore(d *db.DB, log *slog.Logger) *sessionStore {
	s := &sessionStore{d: d, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sessionCleanupEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if err := d.DeleteExpiredSessions(context.Background()); err != nil {
					log.Warn("session cleanup", "err", err)
				}
			}
		}
	}()
	return s
}

// sessionLoad is what the session lookup of a request learnt, for the save at its end and for later
// middleware: the token it found (so a save knows whether its token is the loaded one or was issued in
// this request), the person the session is listed for, and for an organisation's page that organisation
// with the person's role in it (orgAccess decides with them).
type sessionLoad struct {
	token   string         // the token found in the store ("" when the cookie named none, or a dead one)
	orgSlug string         // the route's organisation, asked for with the session ("" on other pages)
	read    db.SessionRead // read.User: the person whose list holds the session at its current epoch; nil otherwise
}

type sessionLoadKey struct{}

func loadOf(ctx context.Context) *sessionLoad {
	l, _ := ctx.Value(sessionLoadKey{}).(*sessionLoad)
	return l
}

// The plain Store methods exist for the interface; scs calls the Ctx ones.
func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}
func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}
func (s *sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// FindCtx reads the session, the person it belongs to and the route's organisation in one query, and
// leaves them in the request's sessionLoad: loadUser and orgAccess take them from there.
func (s *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	l := loadOf(ctx)
	slug := ""
	if l != nil {
		slug = l.orgSlug
	}
	r, found, err := s.d.FindSessionUser(ctx, token, slug)
	if l != nil && err == nil && found {
		l.token, l.read = token, r
	}
	return r.Data, found, err
}

// CommitCtx inserts a token issued in this request and only updates the token the request loaded. The
// update does nothing when the session was ended meanwhile: the request's answer still goes out, and its
// cookie names a token that signs nobody in. Without a sessionLoad (a save outside the session middleware)
// nothing is known to be new, so nothing is inserted.
func (s *sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if l := loadOf(ctx); l != nil && l.token != token {
		if err := s.d.InsertSession(ctx, token, b, expiry); err != nil {
			return err
		}
		l.token = token // saved again in this request: an update from now on
		return nil
	}
	_, err := s.d.UpdateSession(ctx, token, b, expiry)
	return err
}

func (s *sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.d.DeleteSession(ctx, token)
}

func (s *sessionStore) close() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

// listedUser returns what was read with the request's session if it is listed for the person with id uid.
func listedUser(ctx context.Context, uid int64) *db.SessionRead {
	if l := loadOf(ctx); l != nil && l.read.User != nil && l.read.User.ID == uid {
		return &l.read
	}
	return nil
}

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
		load := &sessionLoad{}
		load.orgSlug, _ = routeOrgSlug(c)
		ctx, err := s.sm.Load(context.WithValue(r.Context(), sessionLoadKey{}, load), token)
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
