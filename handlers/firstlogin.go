package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// ---------------------------------------------------------------------------------------------------------
// The "set your password" form, shared by invitation and reset links.

// pwForm describes one use of the set-password form: who it is for and what it asks besides the password.
type pwForm struct {
	action, titleKey, leadKey, submitKey, testID string
	leadArgs                                     []any
	user                                         *db.User
	showName                                     bool      // ask for the name (people who never set a password)
	orgs                                         []string  // the person's organisations (personal-data rule)
	terms                                        *db.Terms // nil: not asked on this form
	termsRequired                                bool
}

// pwInput is what the person sent.
type pwInput struct {
	name, password, repeat string
	termsTicked            bool
}

// pwView builds the form's view model for a first render (in is empty) or a re-render after a refused
// submit.
func (s *Server) pwView(f pwForm, in pwInput) views.SetPasswordView {
	name := f.user.Name
	if f.showName && in.name != "" {
		name = in.name
	}
	v := views.SetPasswordView{
		Action: f.action, TitleKey: f.titleKey, LeadKey: f.leadKey, LeadArgs: f.leadArgs, SubmitKey: f.submitKey,
		TestID: f.testID, Email: f.user.Email, ShowName: f.showName, Name: name, Orgs: f.orgs,
	}
	v.Rules, _ = s.passwordRules(in.password, in.repeat, s.personalInfo([]string{f.user.Email}, []string{name, f.user.Name}, f.orgs))
	if f.terms != nil {
		v.Terms = &views.TermsBox{Version: f.terms.Version, Required: f.termsRequired, Checked: in.termsTicked}
	}
	return v
}

// renderPwForm renders the form; texts of the terms are filled in for the page's language.
func (s *Server) renderPwForm(c *echo.Context, status int, f pwForm, v views.SetPasswordView) error {
	l := i18n.From(c.Request().Context())
	if v.Terms != nil && f.terms != nil {
		v.Terms.Text = f.terms.Text(l.Lang)
	}
	return s.render(c, status, views.SetPassword(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// readPwForm reads and validates the set-password form. The server's check is the authority: the live
// list in the browser is only a help. ok is false when the form was re-rendered with 422 (err then carries
// the render result).
func (s *Server) readPwForm(c *echo.Context, f pwForm) (in pwInput, ok bool, err error) {
	in = pwInput{password: c.FormValue("password"), repeat: c.FormValue("password2")}
	if f.showName {
		in.name = strings.TrimSpace(c.FormValue("name"))
	}
	v := s.pwView(f, in)
	bad := false
	if f.showName {
		v.Name = strings.ToValidUTF8(in.name, "\uFFFD")
		if v.NameErrorKey = accounts.NameProblem(in.name); v.NameErrorKey != "" {
			bad = true
		}
	}
	names := []string{f.user.Name}
	if f.showName {
		names = append(names, in.name)
	}
	var unmet []views.PasswordRule
	v.Rules, unmet = s.passwordRules(in.password, in.repeat, s.personalInfo([]string{f.user.Email}, names, f.orgs))
	if len(unmet) > 0 {
		bad = true
		v.Unmet = unmet
		v.PasswordErrorKey = "setpw.password.error"
		if in.password != in.repeat {
			v.RepeatErrorKey = "setpw.repeat.error"
		}
	}
	if f.terms != nil {
		switch got := c.FormValue("terms"); {
		case got == strconv.Itoa(f.terms.Version):
			in.termsTicked = true
			v.Terms.Checked = true
		case got != "":
			// The terms changed while the form was open: show the new version and ask again.
			v.Terms.ErrorKey = "setpw.terms.changed"
			bad = true
		case f.termsRequired:
			v.Terms.ErrorKey = "setpw.terms.required"
			bad = true
		}
	}
	if bad {
		return in, false, s.renderPwForm(c, http.StatusUnprocessableEntity, f, v)
	}
	return in, true, nil
}

// pageLangOf shows a link's page in the invitee's language (linkLang).
func (s *Server) pageLangOf(c *echo.Context, u *db.User) {
	if s.linkLang(c, u) != u.Lang {
		return // the cookie's, which the request's localizer speaks already
	}
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), s.i18n.For(u.Lang, u.TimeZone))))
}

// linkLang is the language of someone arriving through a link of theirs (an invitation, a reset) before
// they are signed in: the one chosen with the language switch (the cookie), else their own — the language
// staff chose for the invitation — never the browser's, which nobody chose.
func (s *Server) linkLang(c *echo.Context, u *db.User) string {
	if ck, err := c.Request().Cookie(s.cookieLang); err == nil && i18n.Supported(ck.Value) {
		return ck.Value
	}
	return u.Lang
}

// passwordCheck answers the form's live check with the rule list for what was typed. It needs no session
// and stores nothing; the password never reaches a log (the request log holds the route only).
func (s *Server) passwordCheck(c *echo.Context) error {
	form, err := c.FormValues()
	if err != nil {
		return err
	}
	email := strings.TrimSpace(form.Get("email"))
	orgs := form["org"]
	if len(orgs) > 20 {
		orgs = orgs[:20]
	}
	v, _ := s.passwordRules(form.Get("password"), form.Get("password2"), s.personalInfo([]string{email}, []string{form.Get("name")}, orgs))
	return s.render(c, http.StatusOK, views.PasswordRules(v), nil)
}

// ---------------------------------------------------------------------------------------------------------
// Accepting an invitation.

// openInvite checks the link of /invite/:token. When it does not work, the page that explains why is
// rendered and link is nil (err carries the render result).
func (s *Server) openInvite(c *echo.Context) (*accounts.InviteLink, error) {
	il, err := s.accounts.OpenInvite(c.Request().Context(), c.Param("token"))
	if err != nil {
		return nil, err
	}
	if il.User != nil {
		s.pageLangOf(c, il.User)
	}
	if il.State != db.TokenValid {
		return nil, s.linkProblem(c, il.State, "invite")
	}
	return il, nil
}

// inviteForm is the set-password form of an invitation: name, password and the terms, all on one screen.
func (s *Server) inviteForm(c *echo.Context, il *accounts.InviteLink) (pwForm, error) {
	ctx := c.Request().Context()
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return pwForm{}, err
	}
	orgs, err := s.orgNames(ctx, il.User.ID)
	if err != nil {
		return pwForm{}, err
	}
	return pwForm{
		action: "/invite/" + c.Param("token"), titleKey: "setpw.title", leadKey: "setpw.invite.lead",
		submitKey: "setpw.submit.invite", testID: "setpw-invite", leadArgs: s.inviteArgs(c, il.Inv),
		user: il.User, showName: true, orgs: orgs, terms: terms, termsRequired: true,
	}, nil
}

// inviteArgs are the placeholders of the invitation texts, localized: who invited, to what, as what.
func (s *Server) inviteArgs(c *echo.Context, inv *db.Invitation) []any {
	l := i18n.From(c.Request().Context())
	inviter, place := inv.InvitedBy, inv.OrgName
	if inviter == "" {
		inviter = s.msp.Load().Name
	}
	if inv.OrgID == 0 {
		place = s.msp.Load().Name
	}
	return []any{"inviter", inviter, "org", place, "role", l.T("role." + inv.Role), "email", inv.Email}
}

// invitePage shows "set your password" for a live invitation link. It changes nothing: mail scanners that
// open links must not use up the invitation.
func (s *Server) invitePage(c *echo.Context) error {
	il, err := s.openInvite(c)
	if il == nil {
		return err
	}
	if il.User.PasswordHash != "" {
		l := i18n.From(c.Request().Context())
		return s.render(c, http.StatusOK, views.InviteExisting(s.shell(c, l.T("invite.existing.title")),
			views.InviteExistingView{Action: "/invite/" + c.Param("token"), TextArgs: s.inviteArgs(c, il.Inv)}), nil)
	}
	// An organisation with an identity provider: "Continue with …" first (oidc.go).
	if shown, err := s.inviteIdPPage(c, il); shown {
		return err
	}
	f, err := s.inviteForm(c, il)
	if err != nil {
		return err
	}
	return s.renderPwForm(c, http.StatusOK, f, s.pwView(f, pwInput{}))
}

// inviteAccept sets the first password, name and terms acceptance in one transaction, uses the link up and
// signs the person in: the link proves the address, the password was just chosen.
func (s *Server) inviteAccept(c *echo.Context) error {
	ctx := c.Request().Context()
	il, err := s.openInvite(c)
	if il == nil {
		return err
	}
	if il.User.PasswordHash != "" {
		return s.inviteAcceptExisting(c, il)
	}
	f, err := s.inviteForm(c, il)
	if err != nil {
		return err
	}
	in, ok, err := s.readPwForm(c, f)
	if !ok {
		return err
	}
	u := il.User
	fp := accounts.FirstPassword{Password: in.password, Name: in.name, IP: c.RealIP(), Actor: s.auditEntry(c, 0, "", ""),
		// The language the person read the page in becomes theirs (openInvite chose it: the language
		// switch's cookie, else the one staff chose for them).
		Lang: i18n.From(c.Request().Context()).Lang}
	if f.terms != nil {
		fp.Terms = f.terms.Version
	}
	state, err := s.accounts.AcceptInvite(ctx, il, fp)
	if err != nil {
		return err
	}
	if state != db.TokenValid {
		// Used, revoked, withdrawn, expired or the account disabled between the check above and now: the
		// page a GET of the link shows now.
		return s.linkProblem(c, state, "invite")
	}
	if err := s.db.NoteSignIn(ctx, u.ID); err != nil {
		return err
	}
	if u, err = s.db.UserByID(ctx, u.ID); err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return s.continueTo(c, u)
}

// inviteAcceptExisting accepts an invitation of someone who already has a password: accepting is what makes
// them a member (or staff). Then they continue (when signed in as that person) or are sent to sign in: the
// link alone does not sign anyone in who has a password.
func (s *Server) inviteAcceptExisting(c *echo.Context, il *accounts.InviteLink) error {
	ctx := c.Request().Context()
	if c.FormValue("existing") != "1" {
		return echo.ErrBadRequest
	}
	state, err := s.accounts.AcceptExisting(ctx, il, s.auditEntry(c, 0, "", ""))
	if err != nil {
		return err
	}
	if state != db.TokenValid {
		return s.linkProblem(c, state, "invite")
	}
	if cur := currentUser(c); cur != nil && cur.ID == il.User.ID {
		return s.continueTo(c, cur)
	}
	s.sm.Put(ctx, keyFlash, "invite.existing.done")
	return s.redirect(c, "/login")
}
