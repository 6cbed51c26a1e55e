package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Session keys of a signed-in person.
const (
	keyUID   = "uid"    // the person, set after the password step (or a passkey)
	keyPwAt  = "pw_at"  // when the password was last entered (Unix seconds), for re-confirmation
	keyOrg   = "org"    // the organisation being looked at
	keyNext  = "next"   // where to go once the first-login steps are done
	keyFlash = "flash"  // a one-time message (translation key) for the next page
	keyMFAOK = "mfa_ok" // the second factor was passed in this session
)

const (
	ctxUser = "portier.user"
	ctxOrg  = "portier.org"
	ctxRole = "portier.role"
	// ctxComplete is set when the person finished every first-login step (the menu is shown).
	ctxComplete = "portier.complete"
)

// loadUser puts the signed-in person into the request and switches to their language and time zone.
// A disabled or deleted account ends the session.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		uid := s.sm.GetInt64(ctx, keyUID)
		if uid == 0 {
			return next(c)
		}
		// Read together with the session (sessionStore.FindCtx), through the person's list of sessions at
		// their current epoch. A session that list does not hold was ended (or saved again by a request that
		// was running when it was ended): it signs nobody in, whatever its data says.
		read := listedUser(ctx, uid)
		if read == nil || read.User.Disabled {
			if err := s.sm.Destroy(ctx); err != nil {
				return err
			}
			return next(c)
		}
		u := read.User
		c.Set(ctxUser, u)
		r := c.Request()
		c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), s.i18n.For(u.Lang, u.TimeZone))))
		// What is answered before the session is read (a cross-site refusal, "busy, try again", a body too
		// large) speaks the cookie's language: keep it the person's, whichever way they signed in. Not on
		// the unqueued answers (admit.go): static files are cached, and a cookie does not belong in a cache.
		if ck, err := r.Cookie(s.cookieLang); i18n.Supported(u.Lang) && !unqueued[c.Path()] && (err != nil || ck.Value != u.Lang) {
			s.setPrefCookie(c, s.cookieLang, u.Lang)
		}
		// The session middleware refreshed "seen" (at most once a minute): note the activity for the
		// person's session list too.
		if s.sm.Status(ctx) == scs.Modified {
			if err := s.db.TouchUserSession(ctx, s.sm.Token(ctx), c.RealIP()); err != nil {
				s.log.Warn("touch session", "err", err)
			}
		}
		return next(c)
	}
}

// currentUser returns the signed-in person or nil.
func currentUser(c *echo.Context) *db.User {
	u, _ := c.Get(ctxUser).(*db.User)
	return u
}

// currentOrg returns the organisation of an /o/:slug route and the viewer's role there ("" for staff).
func currentOrg(c *echo.Context) (*db.Org, string) {
	o, _ := c.Get(ctxOrg).(*db.Org)
	r, _ := c.Get(ctxRole).(string)
	return o, r
}

// nextStep is the first unfinished step of the first-login pipeline, or "" when the person is done.
// Order: e-mail confirmed → terms accepted → second factor (enrolled and passed) → "your account is set up".
func (s *Server) nextStep(c *echo.Context, u *db.User) (string, error) {
	ctx := c.Request().Context()
	if !u.EmailConfirmed {
		return "/confirm/pending", nil
	}
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return "", err
	}
	if terms != nil && u.TermsVersion < terms.Version {
		return "/terms", nil
	}
	if step, err := s.mfaStep(c, u); err != nil || step != "" {
		return step, err
	}
	if !u.SetupShown {
		return "/welcome/done", nil
	}
	return "", nil
}

// landing is where a person with every step done goes when no page was asked for.
func (s *Server) landing(c *echo.Context, u *db.User) (string, error) {
	if u.IsStaff() {
		return "/staff", nil
	}
	ctx := c.Request().Context()
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if cur := s.sm.GetInt64(ctx, keyOrg); cur != 0 {
		for _, m := range ms {
			if m.Org.ID == cur {
				return "/o/" + m.Org.Slug, nil
			}
		}
	}
	if len(ms) == 1 {
		return "/o/" + ms[0].Org.Slug, nil
	}
	return "/orgs", nil
}

// continueTo sends a person who just finished a step to the next one, or to the page they asked for.
func (s *Server) continueTo(c *echo.Context, u *db.User) error {
	step, err := s.nextStep(c, u)
	if err != nil {
		return err
	}
	if step != "" {
		return s.redirect(c, step)
	}
	ctx := c.Request().Context()
	if next := s.sm.PopString(ctx, keyNext); next != "" {
		return s.redirect(c, next)
	}
	dest, err := s.landing(c, u)
	if err != nil {
		return err
	}
	return s.redirect(c, dest)
}

// signedIn lets through people who passed the password step; others go to the sign-in page and come back.
func (s *Server) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if currentUser(c) == nil {
			return s.toLogin(c)
		}
		return next(c)
	}
}

func (s *Server) toLogin(c *echo.Context) error {
	r := c.Request()
	target := "/login"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	return s.redirect(c, target)
}

// complete lets through people who finished every first-login step, second factor included. Everyone
// else is sent to their next step: a session that has passed the password but not the second factor
// reaches nothing else.
func (s *Server) complete(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		u := currentUser(c)
		if u == nil {
			return s.toLogin(c)
		}
		c.Set(ctxBeforeHandler, true)
		step, err := s.nextStep(c, u)
		c.Set(ctxBeforeHandler, false)
		if err != nil {
			return err
		}
		if step != "" {
			if r := c.Request(); r.Method == http.MethodGet && !isFragment(r) {
				s.sm.Put(r.Context(), keyNext, r.URL.RequestURI())
			}
			return s.redirect(c, step)
		}
		c.Set(ctxComplete, true)
		return next(c)
	}
}

// staffOnly lets through MSP staff; customers get 404 (staff pages do not exist for them).
func (s *Server) staffOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if u := currentUser(c); u == nil || !u.IsStaff() {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// adminOnly lets through MSP administrators.
func (s *Server) adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if u := currentUser(c); u == nil || !u.IsAdmin() {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// orgAccess decides who may see an organisation's pages (the routes under orgRoutes). Staff see every
// organisation; customers only their own: any other answers 404, the same as one that does not exist. The
// organisation and the person's role in it were read with the session (sessionMiddleware asked for the
// route's slug), from the same snapshot as the person.
func (s *Server) orgAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		u := currentUser(c)
		ctx := c.Request().Context()
		read := listedUser(ctx, u.ID)
		if _, underOrgRoutes := routeOrgSlug(c); read == nil || !underOrgRoutes {
			// Only a route outside orgRoutes gets here: the session was read without its organisation.
			return fmt.Errorf("orgAccess on %s: no organisation read with the session", c.Path())
		}
		o, role := read.Org, read.Role
		if o == nil {
			return db.ErrNotFound
		}
		if u.IsStaff() {
			role = ""
		} else if role == "" {
			return db.ErrNotFound // not a member: the same answer as an organisation that does not exist
		}
		c.Set(ctxOrg, o)
		c.Set(ctxRole, role)
		if s.sm.GetInt64(ctx, keyOrg) != o.ID {
			s.sm.Put(ctx, keyOrg, o.ID)
		}
		return next(c)
	}
}

// auditEntry describes an action of the current request's person.
func (s *Server) auditEntry(c *echo.Context, orgID int64, action, target string) db.AuditEntry {
	e := db.AuditEntry{OrgID: orgID, Action: action, Target: target, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	if u := currentUser(c); u != nil {
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
	}
	return e
}

// audit appends an entry about the request's change after it committed (audit.Log.Record).
func (s *Server) audit(c *echo.Context, orgID int64, action, target string) {
	s.audits.Record(c.Request().Context(), s.auditEntry(c, orgID, action, target))
}

// shellUser is the header's view of the signed-in person.
func (s *Server) shellUser(c *echo.Context) *views.ShellUser {
	u := currentUser(c)
	if u == nil {
		return nil
	}
	su := &views.ShellUser{Name: u.DisplayName(), IsStaff: u.IsStaff()}
	su.Complete, _ = c.Get(ctxComplete).(bool)
	if o, _ := currentOrg(c); o != nil {
		su.OrgName, su.OrgSlug = o.Name, o.Slug
	}
	if su.Complete && !u.IsStaff() {
		if read := listedUser(c.Request().Context(), u.ID); read != nil {
			su.MultiOrg = read.Memberships > 1 // counted with the session in this request
		} else if n, err := s.db.MembershipCount(c.Request().Context(), u.ID); err == nil {
			su.MultiOrg = n > 1
		}
	}
	return su
}

// setupDone is shown once: "your account is set up".
func (s *Server) setupDone(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	step, err := s.nextStep(c, u)
	if err != nil {
		return err
	}
	if step != "" && step != "/welcome/done" {
		return s.redirect(c, step)
	}
	if !u.SetupShown {
		if err := s.db.MarkSetupShown(ctx, u.ID); err != nil {
			return err
		}
		u.SetupShown = true
	}
	next := s.sm.PopString(ctx, keyNext)
	if next == "" {
		if next, err = s.landing(c, u); err != nil {
			return err
		}
	}
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.SetupDone(s.shell(c, l.T("setup.done.title")), views.SetupDoneView{NextHref: next}), nil)
}
