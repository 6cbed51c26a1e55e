package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/signin"
	"portier/views"
)

// The security page: second factors with names and last use (add, rename, remove — never the last),
// recovery codes left, sessions and recent sign-ins. Adding or removing a factor needs the password
// entered in the last 10 minutes. Staff and an organisation's managers can reset a person's factors.

// securityPage shows the page; problemKey (a translation key) explains a refused change.
func (s *Server) securityPage(c *echo.Context) error {
	return s.renderSecurity(c, http.StatusOK, "")
}

func (s *Server) renderSecurity(c *echo.Context, status int, problemKey string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	l := i18n.From(ctx)
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return err
	}
	left, err := s.db.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	signins, err := s.db.RecentSignIns(ctx, u.ID, 10)
	if err != nil {
		return err
	}
	v := views.SecurityView{
		RecoveryLeft:     left,
		RecoveryLow:      left <= signin.RecoveryLow,
		ErrorKey:         problemKey,
		PasskeyAvailable: s.passkeys != nil,
		EmailAvailable:   !s.cfg.NoMailServer,
		PasskeyName:      passkeyNameFor(l, c.Request().UserAgent()),
		Assets:           s.mfaAssets(true),
	}
	if problemKey == "" {
		v.InfoKey = s.sm.PopString(ctx, keyFlash)
	}
	for _, m := range methods {
		sm := views.SecurityMethod{ID: m.ID, KindKey: "mfa.kind." + m.Kind, Name: m.Name, Added: l.DateTime(m.CreatedAt)}
		// Enrolling proves a code and the first enrolment is listed among the sign-ins below, so it counts as
		// a use here too: "not yet" beside a listed sign-in with the same method would contradict it.
		if !m.LastUsedAt.IsZero() {
			sm.LastUsed = l.DateTime(m.LastUsedAt)
		}
		switch {
		case m.Kind == db.MFAEmail:
			sm.Detail = m.Email
		case m.Kind == db.MFAPasskey && m.BackupEligible:
			sm.Detail = l.T("security.synced")
		}
		v.Methods = append(v.Methods, sm)
	}
	cur := db.SessionHash(s.sm.Token(ctx))
	for _, se := range sessions {
		v.Sessions = append(v.Sessions, views.SecuritySession{
			Device: deviceName(l, se.UserAgent), IP: se.IP, LastSeen: l.DateTime(se.LastSeen), Current: bytes.Equal(se.Hash, cur),
		})
	}
	for _, si := range signins {
		v.SignIns = append(v.SignIns, views.SecuritySignIn{
			At: l.DateTime(si.At), IP: si.IP, Browser: deviceName(l, si.UserAgent), MethodKey: "mfa.kind." + methodKind(si.Method),
		})
	}
	if v.IdPLinks, err = s.idpLinkRows(c, u); err != nil { // the organisations' providers (oidc.go)
		return err
	}
	return s.render(c, status, views.Security(s.shell(c, l.T("security.title")), v), nil)
}

// methodKind maps an audited method to a known kind.
func methodKind(m string) string {
	switch m {
	case db.MFATOTP, db.MFAEmail, db.MFAPasskey, "recovery", "idp":
		return m
	}
	return "unknown"
}

// methodParam reads the :id of a method route.
func methodParam(c *echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// ownMethod loads the signed-in person's second-factor method of the path's :id; anyone else's answers 404.
func (s *Server) ownMethod(c *echo.Context) (*db.MFAMethod, error) {
	id, err := methodParam(c)
	if err != nil {
		return nil, err
	}
	return s.db.MFAMethodOf(c.Request().Context(), currentUser(c).ID, id)
}

func (s *Server) renameMethod(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	m, err := s.ownMethod(c)
	if err != nil {
		return err
	}
	name := cleanName(c.FormValue("name"), m.Name)
	if err := s.db.RenameMFAMethod(ctx, u.ID, m.ID, name); err != nil {
		return err
	}
	s.audit(c, 0, "mfa.rename", m.Kind+" #"+itoa64(m.ID))
	s.sm.Put(ctx, keyFlash, "security.renamed")
	return s.redirect(c, "/security#methods")
}

// removeMethodPage asks before a factor is removed: one click on the security page must not take away a
// way to sign in.
func (s *Server) removeMethodPage(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := methodParam(c)
	if err != nil {
		return err
	}
	m, err := s.db.MFAMethodOf(ctx, u.ID, id)
	if err != nil {
		return err
	}
	if !s.recentPassword(c) {
		return s.redirect(c, "/security/confirm?next="+url.QueryEscape(c.Request().URL.Path))
	}
	all, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	// The last factor cannot go (removeMethod refuses it too): say so before the person confirms.
	v := views.RemoveMethodView{ID: m.ID, KindKey: "mfa.kind." + m.Kind, Name: m.Name, Email: u.Email, Last: len(all) <= 1}
	return s.render(c, http.StatusOK, views.RemoveMethod(s.shell(c, l.T("security.remove_title")), v), nil)
}

// removeMethod removes a factor, never the last one, and only with a recently entered password. The person
// gets a mail in the same transaction, so a factor removed by someone else at their desk does not go unseen.
func (s *Server) removeMethod(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	m, err := s.ownMethod(c)
	if err != nil {
		return err
	}
	if !s.recentPassword(c) {
		return s.redirect(c, "/security/confirm?next="+url.QueryEscape(c.Request().URL.Path))
	}
	// The mail names the browser in the person's language, which is this request's (loadUser).
	err = s.signin.RemoveFactor(ctx, u, m, deviceName(i18n.From(ctx), c.Request().UserAgent()), s.auditEntry(c, 0, "", ""))
	if errors.Is(err, signin.ErrLastFactor) {
		return s.renderSecurity(c, http.StatusConflict, "security.last_factor")
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "security.removed")
	return s.redirect(c, "/security#methods")
}

// securityConfirmPage asks for the password again before a change of second factors.
func (s *Server) securityConfirmPage(c *echo.Context) error {
	l := i18n.From(c.Request().Context())
	v := views.ReauthView{Next: safeNext(c.QueryParam("next"), "/security")}
	return s.render(c, http.StatusOK, views.Reauth(s.shell(c, l.T("reauth.title")), v), nil)
}

// securityConfirm checks the password (reauth: a wrong one counts as a failed sign-in, and during a lock
// even the right one is refused). Every failure gets the same words.
func (s *Server) securityConfirm(c *echo.Context) error {
	u := currentUser(c)
	l := i18n.From(c.Request().Context())
	v := views.ReauthView{Next: safeNext(c.FormValue("next"), "/security")}
	problem, err := s.reauth(c, u, c.FormValue("password"), "security")
	if err != nil {
		return err
	}
	if problem != "" {
		v.ErrorKey = "reauth.failed"
		return s.render(c, http.StatusUnprocessableEntity, views.Reauth(s.shell(c, l.T("reauth.title")), v), nil)
	}
	return s.redirect(c, v.Next)
}
