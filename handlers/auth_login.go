package handlers

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

func (s *Server) loginPage(c *echo.Context) error {
	ctx := c.Request().Context()
	if u := currentUser(c); u != nil {
		return s.continueTo(c, u)
	}
	v := views.LoginView{Next: safeNext(c.QueryParam("next"), ""), InfoKey: s.sm.PopString(ctx, keyFlash)}
	return s.renderLogin(c, http.StatusOK, v)
}

func (s *Server) renderLogin(c *echo.Context, status int, v views.LoginView) error {
	l := i18n.From(c.Request().Context())
	if s.wa != nil {
		v.PasskeyJS = s.assets.URL("passkey.js") // "sign in with a passkey", no password
	}
	v.IdPs = s.idpButtons(c) // "Continue with Microsoft/Google" (oidc.go)
	return s.render(c, status, views.Login(s.shell(c, l.T("login.title")), v), nil)
}

// login checks e-mail and password. Every failure gets the same words, whatever the reason (unknown
// address, wrong password, locked or disabled account), and unknown addresses cost the same hashing time.
func (s *Server) login(c *echo.Context) error {
	ctx := c.Request().Context()
	ip := c.RealIP()
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"), "")
	v := views.LoginView{Email: email, Next: next, ErrorKey: "login.failed"}
	if len(email) > 254 {
		email = email[:254]
	}

	u, err := s.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// Someone signing in with an address they asked to switch to: the password is checked against that
	// account (and counted there), and the right one is told the new address still waits for confirmation.
	var pending *db.User
	if u == nil && email != "" {
		p, err := s.db.UserByPendingEmail(ctx, email)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if p != nil && p.PasswordHash != "" && !p.Disabled {
			pending = p
		}
	}
	account := u
	if account == nil {
		account = pending
	}
	var uid int64
	if account != nil {
		uid = account.ID
	}
	// The attempt is counted before the password is checked: parallel requests cannot all pass a lock or
	// throttle that is checked first and counted later.
	res, err := s.db.ReserveAttempt(ctx, db.Attempt{Kind: db.AttemptPassword, UserID: uid, IP: ip})
	if err != nil {
		return err
	}
	switch res.Refused {
	case db.RefusedIP:
		return &tooMany{retryAfter: res.RetryAfter}
	case db.RefusedLocked:
		// Nothing is checked during a lock; the answer still takes a check's time and says the usual words.
		if err := s.cfg.Hasher.DummyVerify(ctx, password); err != nil && !errors.Is(err, auth.ErrTooLong) {
			return err
		}
		s.auditLogin(c, u, "login.locked", email)
		return s.renderLogin(c, http.StatusUnauthorized, v)
	}

	var ok, rehash bool
	switch {
	case pending != nil:
		ok, _, err = s.cfg.Hasher.Verify(ctx, pending.PasswordHash, password)
	case u == nil || u.PasswordHash == "" || u.Disabled:
		err = s.cfg.Hasher.DummyVerify(ctx, password)
	default:
		ok, rehash, err = s.cfg.Hasher.Verify(ctx, u.PasswordHash, password)
	}
	if err != nil && !errors.Is(err, auth.ErrTooLong) {
		return err
	}
	if !ok {
		s.auditLogin(c, u, "login.fail", email)
		return s.renderLogin(c, http.StatusUnauthorized, v)
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return err
	}
	if pending != nil {
		return s.renderPendingConfirmation(c, pending, email)
	}
	if err := s.db.NoteSignIn(ctx, u.ID); err != nil {
		return err
	}
	if rehash {
		if phc, err := s.cfg.Hasher.Hash(ctx, password); err == nil {
			_, _ = s.db.W.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, phc, u.ID)
		}
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	if next != "" {
		s.sm.Put(ctx, keyNext, next)
	}
	s.auditLogin(c, u, "login.ok", "")
	return s.continueTo(c, u)
}

// startSession renews the session token (no fixation), binds it to the person and lists it among their
// sessions.
func (s *Server) startSession(c *echo.Context, u *db.User) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyUID, u.ID)
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	s.sm.Remove(ctx, keyMFAOK)
	// A new sign-in attempt for the second factor, made here once rather than by the first of possibly
	// parallel code requests (each would start an attempt of its own).
	s.mfaAttempt(c, u)
	c.Set(ctxUser, u)
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(ctx, s.i18n.For(u.Lang, u.TimeZone))))
	// RenewToken already set the new token. (Saving the session here marked it committed, so whatever
	// was put afterwards — the "next" page of the sign-in form — was lost.) The epoch is the one read with
	// the password hash: sessions ended since then take this one with them.
	return s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, u.SessionEpoch, c.RealIP(), r.UserAgent())
}

func (s *Server) auditLogin(c *echo.Context, u *db.User, action, email string) {
	e := s.auditEntry(c, 0, action, "")
	if u != nil {
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
	} else {
		// Unknown addresses are recorded by their domain only: the log must not collect typos of passwords
		// typed into the e-mail field.
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			e.Target = "*" + email[at:]
		}
	}
	if err := s.db.Audit(c.Request().Context(), nil, e); err != nil {
		s.log.Error("audit", "err", err)
	}
}

// logout ends the session (a POST: a link or image cannot sign anyone out).
func (s *Server) logout(c *echo.Context) error {
	ctx := c.Request().Context()
	if u := currentUser(c); u != nil {
		if err := s.db.RemoveUserSession(ctx, s.sm.Token(ctx)); err != nil {
			return err
		}
		s.audit(c, 0, "logout", "")
	}
	if err := s.sm.Destroy(ctx); err != nil {
		return err
	}
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "login.signed_out")
	return s.redirect(c, "/login")
}

// termsPage shows the current terms to anyone; a signed-in person who has not accepted them is asked to.
func (s *Server) termsPage(c *echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.db.CurrentTerms(ctx)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	v := views.TermsView{Version: t.Version, Text: t.Text(l.Lang), Published: l.Date(t.PublishedAt)}
	if u := currentUser(c); u != nil && u.TermsVersion < t.Version {
		v.MustAccept = true
	}
	return s.render(c, http.StatusOK, views.TermsPage(s.shell(c, l.T("terms.title")), v), nil)
}

// termsDecide records acceptance (person, version, time, IP) or signs out on decline.
func (s *Server) termsDecide(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	t, err := s.db.CurrentTerms(ctx)
	if err != nil {
		return err
	}
	if c.FormValue("decision") == "decline" {
		s.audit(c, 0, "terms.decline", strconv.Itoa(t.Version))
		if err := s.db.RemoveUserSession(ctx, s.sm.Token(ctx)); err != nil {
			return err
		}
		if err := s.sm.Destroy(ctx); err != nil {
			return err
		}
		if err := s.sm.RenewToken(ctx); err != nil {
			return err
		}
		s.sm.Put(ctx, keyFlash, "terms.declined")
		return s.redirect(c, "/login")
	}
	if c.FormValue("decision") != "accept" || c.FormValue("version") != strconv.Itoa(t.Version) {
		// The terms changed while the page was open: show the new version.
		return s.redirect(c, "/terms")
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.AcceptTerms(ctx, tx, s.now(), u.ID, t.Version, c.RealIP()); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "terms.accept", strconv.Itoa(t.Version)))
	})
	if err != nil {
		return err
	}
	u.TermsVersion = t.Version
	return s.continueTo(c, u)
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

// orgsPage lists the person's organisations to choose from.
func (s *Server) orgsPage(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.IsStaff() {
		return s.redirect(c, "/staff")
	}
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	cur := s.sm.GetInt64(ctx, keyOrg)
	v := views.OrgsView{}
	for _, m := range ms {
		v.Orgs = append(v.Orgs, views.OrgChoice{Name: m.Org.Name, Slug: m.Org.Slug, RoleKey: "role." + m.Role, Current: m.Org.ID == cur})
	}
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.Orgs(s.shell(c, l.T("orgs.title")), v), nil)
}

// switchOrg opens another of the person's organisations.
func (s *Server) switchOrg(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	o, err := s.db.OrgBySlug(ctx, c.FormValue("org"))
	if err != nil {
		return err
	}
	if !u.IsStaff() {
		if _, err := s.db.MemberRole(ctx, u.ID, o.ID); err != nil {
			return err
		}
	}
	s.sm.Put(ctx, keyOrg, o.ID)
	return s.redirect(c, "/o/"+o.Slug)
}
