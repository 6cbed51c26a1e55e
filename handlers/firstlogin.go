package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// firstLoginRoutes registers the first-login flows: accepting an invitation, "forgot password", the reset
// link and the live password check. Everyone may call them; the link's token is the authorisation.
func (s *Server) firstLoginRoutes() {
	e := s.e
	e.GET("/invite/:token", s.invitePage)
	e.POST("/invite/:token", s.inviteAccept)
	e.GET("/forgot", s.forgotPage)
	e.POST("/forgot", s.forgot)
	e.GET("/reset/:token", s.resetPage)
	e.POST("/reset/:token", s.resetSubmit)
	e.POST("/password/check", s.passwordCheck)
}

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

// pwPersonal is what the password must not be built from: the person's address and names, their
// organisations and the MSP's name.
func (s *Server) pwPersonal(email string, names, orgs []string) auth.Personal {
	p := auth.Personal{Email: []string{email}}
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			p.Name = append(p.Name, n)
		}
	}
	p.Org = append(append(p.Org, orgs...), s.msp.Load().Name)
	return p
}

// rulesView checks pw (and its repetition) against the policy and returns the rule list to show. The match
// rule comes last.
func (s *Server) rulesView(pw, repeat string, p auth.Personal) (views.PasswordRulesView, []views.PasswordRule) {
	res := s.cfg.PasswordPolicy.Check(pw, p)
	v := views.PasswordRulesView{Empty: pw == "" && repeat == "", Strength: res.Strength, StrengthKey: res.StrengthKey()}
	var unmet []views.PasswordRule
	add := func(key string, args map[string]any, met bool) {
		r := views.PasswordRule{Key: key, Met: met}
		for k, a := range args {
			r.Args = append(r.Args, k, a)
		}
		v.Rules = append(v.Rules, r)
		if !met {
			unmet = append(unmet, r)
		}
	}
	for _, r := range res.Rules {
		add(r.Key, r.Args, r.Met)
	}
	add(auth.MatchKey, nil, pw != "" && pw == repeat)
	return v, unmet
}

// orgNames lists the names of the person's organisations.
func (s *Server) orgNames(ctx context.Context, uid int64) ([]string, error) {
	ms, err := s.db.Memberships(ctx, uid)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Org.Name)
	}
	return out, nil
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
	v.Rules, _ = s.rulesView(in.password, in.repeat, s.pwPersonal(f.user.Email, []string{name, f.user.Name}, f.orgs))
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
		if v.NameErrorKey = NameProblem(in.name); v.NameErrorKey != "" {
			bad = true
		}
	}
	names := []string{f.user.Name}
	if f.showName {
		names = append(names, in.name)
	}
	var unmet []views.PasswordRule
	v.Rules, unmet = s.rulesView(in.password, in.repeat, s.pwPersonal(f.user.Email, names, f.orgs))
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

// NameProblem returns the translation key of what is wrong with a name, or "": 1 to 100 characters of
// valid UTF-8, without control characters, line separators or bidirectional overrides (which would make
// the name read differently in the staff's lists).
func NameProblem(name string) string {
	if !utf8.ValidString(name) {
		return "setpw.name.invalid"
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "setpw.name.required"
	}
	if n > 100 {
		return "setpw.name.too_long"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || (r >= 0x202A && r <= 0x202E) ||
			(r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0xFEFF {
			return "setpw.name.invalid"
		}
	}
	return ""
}

// pageLangOf shows a link's page in the person's language, unless the browser chose one with the language
// switch (the cookie): the invitation was written in the language staff chose for the person.
func (s *Server) pageLangOf(c *echo.Context, u *db.User) {
	r := c.Request()
	if ck, err := r.Cookie(s.cookieLang); err == nil && i18n.Supported(ck.Value) {
		return
	}
	c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), s.i18n.For(u.Lang, u.TimeZone))))
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
	v, _ := s.rulesView(form.Get("password"), form.Get("password2"), s.pwPersonal(email, []string{form.Get("name")}, orgs))
	return s.render(c, http.StatusOK, views.PasswordRules(v), nil)
}

// ---------------------------------------------------------------------------------------------------------
// Accepting an invitation.

// acceptPending accepts, inside tx, the person's other open invitations that the policy lets them accept.
// It is for someone who sets their first password through a link sent to their address (an invitation or
// a reset after losing the invitation mail): those invitations were for them. Someone who has a password
// accepts each invitation through its own link.
//
// accepted is the invitation accepted just before in the same transaction (nil: none), which the
// person's facts as read outside the transaction do not show yet.
func (s *Server) acceptPending(ctx context.Context, tx *sql.Tx, now time.Time, u *db.User, accepted *db.Invitation) error {
	p, err := s.accessPerson(ctx, u)
	if err != nil {
		return err
	}
	if accepted != nil {
		if accepted.OrgID != 0 {
			p.Orgs[accepted.OrgID] = accepted.Role
		} else {
			p.StaffRole = accepted.Role
		}
	}
	invs, err := db.PendingInvitations(ctx, tx, now, u.ID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if access.Decide(p, access.AcceptInvitation, inv.OrgID, &p) != nil {
			continue
		}
		if err := db.AcceptInvitationID(ctx, tx, now, inv.ID); err != nil {
			return err
		}
		if inv.OrgID != 0 {
			p.Orgs[inv.OrgID] = inv.Role
		} else {
			p.StaffRole = inv.Role
		}
	}
	return nil
}

// inviteLink is a live invitation link with its person.
type inviteLink struct {
	hash []byte
	inv  *db.Invitation
	user *db.User
}

// openInvite checks the link of /invite/:token. When it does not work, the page that explains why is
// rendered and link is nil (err carries the render result).
func (s *Server) openInvite(c *echo.Context) (*inviteLink, error) {
	ctx := c.Request().Context()
	hash, err := auth.HashToken(c.Param("token"))
	if err != nil {
		return nil, s.linkProblem(c, db.TokenUnknown, "invite")
	}
	inv, err := s.db.InvitationByToken(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return nil, s.linkProblem(c, db.TokenUnknown, "invite")
	}
	if err != nil {
		return nil, err
	}
	u, err := s.db.UserByID(ctx, inv.UserID)
	if err != nil {
		return nil, err
	}
	s.pageLangOf(c, u)
	state := db.TokenValid
	switch inv.Status {
	case db.InviteAccepted:
		state = db.TokenUsed
	case db.InviteExpired:
		state = db.TokenExpired
	case db.InviteRevoked:
		state = db.TokenRevoked
	}
	if u.Disabled {
		state = db.TokenRevoked
	}
	if state == db.TokenValid {
		// Staff never become customer members, customers never staff, whoever invited them: such a link
		// works no more than a revoked one.
		p, err := s.accessPerson(ctx, u)
		if err != nil {
			return nil, err
		}
		if access.Decide(p, access.AcceptInvitation, inv.OrgID, &p) != nil {
			state = db.TokenRevoked
		}
	}
	if state != db.TokenValid {
		return nil, s.linkProblem(c, state, "invite")
	}
	return &inviteLink{hash: hash, inv: inv, user: u}, nil
}

// inviteForm is the set-password form of an invitation: name, password and the terms, all on one screen.
func (s *Server) inviteForm(c *echo.Context, il *inviteLink) (pwForm, error) {
	ctx := c.Request().Context()
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return pwForm{}, err
	}
	orgs, err := s.orgNames(ctx, il.user.ID)
	if err != nil {
		return pwForm{}, err
	}
	return pwForm{
		action: "/invite/" + c.Param("token"), titleKey: "setpw.title", leadKey: "setpw.invite.lead",
		submitKey: "setpw.submit.invite", testID: "setpw-invite", leadArgs: s.inviteArgs(c, il.inv),
		user: il.user, showName: true, orgs: orgs, terms: terms, termsRequired: true,
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
	if il.user.PasswordHash != "" {
		l := i18n.From(c.Request().Context())
		return s.render(c, http.StatusOK, views.InviteExisting(s.shell(c, l.T("invite.existing.title")),
			views.InviteExistingView{Action: "/invite/" + c.Param("token"), TextArgs: s.inviteArgs(c, il.inv)}), nil)
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
	if il.user.PasswordHash != "" {
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
	phc, err := s.cfg.Hasher.Hash(ctx, in.password)
	if err != nil {
		return err
	}
	u := il.user
	// The language the person read the page in becomes theirs (openInvite chose it: the language switch's
	// cookie, else the one staff chose for them).
	lang := i18n.From(c.Request().Context()).Lang
	now := s.now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, uid, err := db.AcceptInvitation(ctx, tx, now, il.hash)
		if err != nil {
			return err
		}
		if uid != u.ID {
			return db.ErrNotFound
		}
		if err := db.SetPassword(ctx, tx, now, u.ID, phc); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, lang = ? WHERE id = ?`, in.name, lang, u.ID); err != nil {
			return err
		}
		if f.terms != nil {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, f.terms.Version, c.RealIP()); err != nil {
				return err
			}
		}
		if err := s.acceptPending(ctx, tx, now, u, il.inv); err != nil {
			return err
		}
		e := s.auditEntry(c, il.inv.OrgID, "invite.accept", u.Email+" ("+il.inv.Role+")")
		e.ActorID, e.ActorName = u.ID, in.name
		if err := s.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		e = s.auditEntry(c, 0, "password.set", u.Email)
		e.ActorID, e.ActorName = u.ID, in.name
		return s.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrNotFound) {
		// Used (or revoked) between the check above and now.
		return s.linkProblem(c, db.TokenUsed, "invite")
	}
	if err != nil {
		return err
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
func (s *Server) inviteAcceptExisting(c *echo.Context, il *inviteLink) error {
	ctx := c.Request().Context()
	if c.FormValue("existing") != "1" {
		return echo.ErrBadRequest
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := db.AcceptInvitation(ctx, tx, s.now(), il.hash); err != nil {
			return err
		}
		e := s.auditEntry(c, il.inv.OrgID, "invite.accept", il.user.Email+" ("+il.inv.Role+")")
		e.ActorID, e.ActorName = il.user.ID, il.user.DisplayName()
		return s.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrNotFound) {
		return s.linkProblem(c, db.TokenUsed, "invite")
	}
	if err != nil {
		return err
	}
	if cur := currentUser(c); cur != nil && cur.ID == il.user.ID {
		return s.continueTo(c, cur)
	}
	s.sm.Put(ctx, keyFlash, "invite.existing.done")
	return s.redirect(c, "/login")
}
