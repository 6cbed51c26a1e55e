package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// staffRoutes registers the organisation pages (home, people, audit) and the staff area.
func (s *Server) staffRoutes() {
	e := s.e
	org := []echo.MiddlewareFunc{s.complete, s.orgAccess}
	managers := []echo.MiddlewareFunc{s.complete, s.orgAccess, s.orgManagers}
	e.GET("/o/:slug", s.orgHome, org...)
	e.GET("/o/:slug/people", s.orgPeople, managers...)
	e.POST("/o/:slug/people/invite", s.orgInvite, managers...)
	e.POST("/o/:slug/invitations/:id/resend", s.orgResend, managers...)
	e.POST("/o/:slug/invitations/:id/revoke", s.orgRevoke, managers...)
	e.POST("/o/:slug/people/:uid/role", s.orgSetRole, managers...)
	e.POST("/o/:slug/people/:uid/disable", s.orgSetDisabled(true), managers...)
	e.POST("/o/:slug/people/:uid/enable", s.orgSetDisabled(false), managers...)
	e.GET("/o/:slug/audit", s.orgAudit, managers...)

	staff := []echo.MiddlewareFunc{s.complete, s.staffOnly}
	admin := []echo.MiddlewareFunc{s.complete, s.staffOnly, s.adminOnly}
	e.GET("/staff", s.staffHome, staff...)
	e.POST("/staff/orgs", s.staffCreateOrg, staff...)
	e.GET("/staff/people", s.staffPeople, staff...)
	e.POST("/staff/people/invite", s.staffInvite, admin...)
	e.POST("/staff/invitations/:id/resend", s.staffResend, admin...)
	e.POST("/staff/invitations/:id/revoke", s.staffRevoke, admin...)
	e.POST("/staff/people/:uid/disable", s.staffSetDisabled(true), admin...)
	e.POST("/staff/people/:uid/enable", s.staffSetDisabled(false), admin...)
	e.GET("/staff/settings", s.settingsPage, admin...)
	e.POST("/staff/settings", s.settingsSave, admin...)
	e.POST("/staff/settings/terms", s.termsPublish, admin...)
	e.GET("/staff/audit", s.staffAudit, admin...)
}

func staffNav(c *echo.Context, current string) views.StaffNav {
	return views.StaffNav{IsAdmin: currentUser(c).IsAdmin(), Current: current}
}

// staffHome lists every organisation with its number of people, and the form to create one.
func (s *Server) staffHome(c *echo.Context) error {
	if sent, err := s.mspSetupFirst(c); sent || err != nil {
		return err
	}
	v := views.StaffHomeView{FlashKey: s.sm.PopString(c.Request().Context(), keyFlash)}
	return s.renderStaffHome(c, http.StatusOK, v)
}

func (s *Server) renderStaffHome(c *echo.Context, status int, v views.StaffHomeView) error {
	ctx := c.Request().Context()
	orgs, err := s.db.Orgs(ctx)
	if err != nil {
		return err
	}
	v.Nav = staffNav(c, "orgs")
	for _, o := range orgs {
		v.Orgs = append(v.Orgs, views.StaffOrgRow{Name: o.Name, Slug: o.Slug, People: o.People})
	}
	l := i18n.From(ctx)
	return s.render(c, status, views.StaffHome(s.shell(c, l.T("staff.orgs.title")), v), nil)
}

// staffCreateOrg creates an organisation. The slug is derived from the name unless one is given.
func (s *Server) staffCreateOrg(c *echo.Context) error {
	ctx := c.Request().Context()
	if err := s.decide(c, access.CreateOrg, 0, nil); err != nil {
		return err
	}
	if sent, err := s.mspSetupFirst(c); sent || err != nil {
		return err
	}
	f := views.OrgCreateForm{Name: strings.TrimSpace(c.FormValue("name")), Slug: strings.TrimSpace(c.FormValue("slug"))}
	switch {
	case f.Name == "":
		f.NameErr = "staff.error.org_name_required"
	case !peopleTextOK(f.Name, 100):
		f.NameErr = "staff.error.org_name_invalid"
	}
	slug := strings.ToLower(f.Slug)
	if slug == "" && f.NameErr == "" {
		slug = db.Slugify(f.Name)
	}
	if f.NameErr == "" || f.Slug != "" {
		if !db.ValidSlug(slug) {
			f.SlugErr = "staff.error.slug_invalid"
		}
	}
	if f.NameErr != "" || f.SlugErr != "" {
		return s.renderStaffHome(c, http.StatusUnprocessableEntity, views.StaffHomeView{Form: f})
	}
	o, err := s.db.CreateOrg(ctx, f.Name, slug)
	if errors.Is(err, db.ErrConflict) {
		f.Slug, f.SlugErr = slug, "staff.error.slug_taken"
		return s.renderStaffHome(c, http.StatusUnprocessableEntity, views.StaffHomeView{Form: f})
	}
	if err != nil {
		return err
	}
	s.audit(c, o.ID, "org.create", o.Name+" ("+o.Slug+")")
	s.sm.Put(ctx, keyFlash, "staff.flash.org_created")
	return s.redirect(c, "/o/"+o.Slug+"/people")
}

// staffPeopleView builds the list of the MSP's staff and their invitations.
func (s *Server) staffPeopleView(c *echo.Context) (views.PeopleView, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	l := i18n.From(ctx)
	nav := staffNav(c, "people")
	people, err := s.db.StaffPeople(ctx)
	if err != nil {
		return views.PeopleView{}, err
	}
	admins, err := s.db.CountAdmins(ctx)
	if err != nil {
		return views.PeopleView{}, err
	}
	v := views.PeopleView{
		Staff: &nav, Base: "/staff", CanInvite: u.IsAdmin(), RoleChoices: staffRoles,
		Invite: views.InviteForm{Role: "technician", Lang: l.Lang},
	}
	actor, err := s.actor(c)
	if err != nil {
		return v, err
	}
	for _, p := range people {
		row := views.MemberRow{
			ID: p.UserID, Name: p.Name, Email: p.Email, Role: p.Role, RoleKey: "role." + p.Role,
			Status: personStatus(p), IsSelf: p.UserID == u.ID,
		}
		if !p.LastLoginAt.IsZero() {
			row.LastLogin = l.DateTime(p.LastLoginAt)
		}
		target := &access.Person{ID: p.UserID, StaffRole: p.Role}
		may := func(a access.Action) bool { return access.Decide(actor, a, 0, target) == nil }
		if may(access.SetDisabled) {
			row.CanDisable = !p.Disabled && !(p.Role == "admin" && admins <= 1)
			row.CanEnable = p.Disabled
		}
		if p.Active && !p.Disabled && may(access.ResetSecondFactor) {
			row.MFAReset = &views.MFAResetFormView{Action: "/staff/users/" + strconv.FormatInt(p.UserID, 10) + "/mfa-reset",
				Next: "/staff/people", Name: p.Name}
		}
		v.Members = append(v.Members, row)
	}
	if u.IsAdmin() {
		invs, err := s.db.Invitations(ctx, 0)
		if err != nil {
			return v, err
		}
		v.Invitations = invitationRows(l, invs, true)
	}
	return v, nil
}

func (s *Server) renderStaffPeople(c *echo.Context, status int, v views.PeopleView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.People(s.shell(c, l.T("staff.people.title")), v), nil)
}

func (s *Server) staffPeople(c *echo.Context) error {
	v, err := s.staffPeopleView(c)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderStaffPeople(c, http.StatusOK, v)
}

func (s *Server) staffPeopleRefuse(c *echo.Context, key string) error {
	v, err := s.staffPeopleView(c)
	if err != nil {
		return err
	}
	v.ErrorKey = key
	return s.renderStaffPeople(c, http.StatusUnprocessableEntity, v)
}

func (s *Server) staffPeopleDone(c *echo.Context, flash string) error {
	s.sm.Put(c.Request().Context(), keyFlash, flash)
	return s.redirect(c, "/staff/people")
}

// staffInvite invites an administrator or technician of the MSP.
func (s *Server) staffInvite(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	f, ok := readInviteForm(c, staffRoles)
	if ok {
		existing, err := s.db.UserByEmail(ctx, f.Email)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		// Roles of active staff do not change through an invitation.
		if existing != nil && existing.ID != u.ID && existing.StaffRole != "" && existing.StaffRole != f.Role && existing.PasswordHash != "" {
			f.RoleErr, ok = "staff.error.role_differs", false
		}
	}
	if ok {
		by, err := s.actor(c)
		if err != nil {
			return err
		}
		link, inv, res, err := s.Invite(ctx, InviteRequest{Email: f.Email, Name: f.Name, Lang: f.Lang, Role: f.Role,
			By: by, Actor: s.auditEntry(c, 0, "", "")})
		if key := refusalKey(err); key != "" {
			f.EmailErr, ok = key, false
		} else if err != nil {
			return notFound(err)
		} else {
			return s.invited(c, &sentInvitation{link, inv}, inviteFlash(res), s.staffPeopleView, s.renderStaffPeople, s.staffPeopleDone)
		}
	}
	v, err := s.staffPeopleView(c)
	if err != nil {
		return err
	}
	v.Invite = f
	return s.renderStaffPeople(c, http.StatusUnprocessableEntity, v)
}

func (s *Server) staffResend(c *echo.Context) error {
	sent, err := s.resendInvitation(c, 0)
	if err != nil {
		return s.peopleRefusal(c, 0, err)
	}
	return s.invited(c, sent, "people.flash.resent", s.staffPeopleView, s.renderStaffPeople, s.staffPeopleDone)
}

func (s *Server) staffRevoke(c *echo.Context) error {
	if err := s.revokeInvitation(c, 0); err != nil {
		return s.peopleRefusal(c, 0, err)
	}
	return s.staffPeopleDone(c, "people.flash.revoked")
}

// staffSetDisabled disables (ending every session) or enables a staff member's account. Nobody disables
// themselves, and the last enabled administrator stays.
func (s *Server) staffSetDisabled(disabled bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		id, err := strconv.ParseInt(c.Param("uid"), 10, 64)
		if err != nil || id <= 0 {
			return db.ErrNotFound
		}
		m, err := s.db.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if !m.IsStaff() {
			return db.ErrNotFound // customers are managed on their organisation's page
		}
		if err := s.decide(c, access.SetDisabled, 0, m); err != nil {
			return s.peopleRefusal(c, 0, err)
		}
		action, flash := "user.enable", "people.flash.enabled"
		if disabled {
			action, flash = "user.disable", "people.flash.disabled"
			err = s.db.DisableUnlessLastAdmin(ctx, m.ID)
			if errors.Is(err, db.ErrConflict) {
				return s.staffPeopleRefuse(c, "staff.error.last_admin")
			}
		} else {
			err = s.db.SetDisabled(ctx, m.ID, false)
		}
		if err != nil {
			return err
		}
		s.audit(c, 0, action, m.Email)
		return s.staffPeopleDone(c, flash)
	}
}

// Invitation lifetime bounds, in days.
const (
	minInviteDays = 1
	maxInviteDays = 30
)

// settingsView fills the settings page with the stored values.
func (s *Server) settingsView(c *echo.Context) (views.SettingsView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	m := s.msp.Load()
	v := views.SettingsView{
		Nav: staffNav(c, "settings"), MSPName: m.Name, SupportEmail: m.SupportEmail, SupportPhone: m.SupportPhone,
		TTLDays: strconv.Itoa(int(s.inviteTTL(ctx) / (24 * time.Hour))),
	}
	t, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return v, err
	}
	if t != nil {
		v.TermsVersion, v.TermsPublished, v.TermsDE, v.TermsEN = t.Version, l.Date(t.PublishedAt), t.TextDE, t.TextEN
	}
	return v, nil
}

func (s *Server) renderSettings(c *echo.Context, status int, v views.SettingsView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.Settings(s.shell(c, l.T("settings.title")), v), nil)
}

func (s *Server) settingsPage(c *echo.Context) error {
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderSettings(c, http.StatusOK, v)
}

// phoneOK accepts what people write in a phone number: digits, spaces, + ( ) / - and dots.
func phoneOK(p string) bool {
	if len(p) > 40 {
		return false
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '(', r == ')', r == '/', r == '-', r == '.':
		default:
			return false
		}
	}
	return digits >= 3
}

// settingsSave stores the MSP's name, support contact and the invitation lifetime, and shows the new
// values everywhere at once.
func (s *Server) settingsSave(c *echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.MSPName = strings.TrimSpace(c.FormValue("msp_name"))
	v.SupportEmail = strings.TrimSpace(c.FormValue("support_email"))
	v.SupportPhone = strings.TrimSpace(c.FormValue("support_phone"))
	v.TTLDays = strings.TrimSpace(c.FormValue("ttl_days"))
	v.NameErr, v.EmailErr, v.PhoneErr = mspProblems(v.MSPName, v.SupportEmail, v.SupportPhone)
	days, err := strconv.Atoi(v.TTLDays)
	if err != nil || days < minInviteDays || days > maxInviteDays {
		v.TTLErr = "settings.error.ttl"
	}
	if v.NameErr != "" || v.EmailErr != "" || v.PhoneErr != "" || v.TTLErr != "" {
		return s.renderSettings(c, http.StatusUnprocessableEntity, v)
	}
	oldDays := strconv.Itoa(int(s.inviteTTL(ctx) / (24 * time.Hour)))
	if err := s.saveMSP(c, v.MSPName, v.SupportEmail, v.SupportPhone, setting{"invite.ttl_days", oldDays, strconv.Itoa(days)}); err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "settings.flash.saved")
	return s.redirect(c, "/staff/settings")
}

// maxTermsLen bounds each language's terms text (characters).
const maxTermsLen = 50000

// termsPublish publishes a new version of the terms of use; everyone is asked to accept it again.
func (s *Server) termsPublish(c *echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.settingsView(c)
	if err != nil {
		return err
	}
	v.TermsDE = strings.TrimSpace(strings.ReplaceAll(c.FormValue("terms_de"), "\r\n", "\n"))
	v.TermsEN = strings.TrimSpace(strings.ReplaceAll(c.FormValue("terms_en"), "\r\n", "\n"))
	for _, f := range []struct {
		text string
		err  *string
	}{{v.TermsDE, &v.TermsDEErr}, {v.TermsEN, &v.TermsENErr}} {
		switch {
		case f.text == "":
			*f.err = "settings.error.terms_required"
		case !termsTextOK(f.text):
			*f.err = "settings.error.terms_invalid"
		}
	}
	if v.TermsDEErr != "" || v.TermsENErr != "" {
		return s.renderSettings(c, http.StatusUnprocessableEntity, v)
	}
	version, err := s.db.PublishTerms(ctx, v.TermsDE, v.TermsEN, currentUser(c).ID)
	if err != nil {
		return err
	}
	s.audit(c, 0, "terms.publish", strconv.Itoa(version))
	s.sm.Put(ctx, keyFlash, "settings.flash.terms_published")
	return s.redirect(c, "/staff/settings")
}

// termsTextOK: valid UTF-8, bounded, no control characters but line breaks and tabs.
func termsTextOK(t string) bool {
	if len([]rune(t)) > maxTermsLen {
		return false
	}
	return peopleTextOK(strings.NewReplacer("\n", " ", "\t", " ").Replace(t), maxTermsLen)
}

// auditPage is how many entries one page of the audit log shows.
const auditPage = 50

// auditView reads one page of the audit log for base (the page's own path). orgID 0 lists every
// organisation; orgs (staff only) fill the organisation filter.
func (s *Server) auditView(c *echo.Context, base string, orgID int64, orgs []db.OrgSummary) (views.AuditView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	action := strings.TrimSpace(c.QueryParam("action"))
	if len(action) > 64 || !peopleTextOK(action, 64) {
		action = ""
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	v := views.AuditView{Base: base, Action: action}
	slug := ""
	for _, o := range orgs {
		sel := o.Slug == c.QueryParam("org")
		if sel {
			orgID, slug = o.ID, o.Slug
		}
		v.Orgs = append(v.Orgs, views.AuditOrgOption{Slug: o.Slug, Name: o.Name, Selected: sel})
	}
	for _, a := range auditActions {
		v.Actions = append(v.Actions, views.AuditActionOption{Value: a, Label: auditActionText(l, a), Selected: a == action})
	}
	// The filter's choices are whole actions; any other value (an old link, a typed URL) is a prefix.
	entries, err := s.db.AuditList(ctx, db.AuditFilter{OrgID: orgID, Action: action, ActionExact: knownAuditAction(action), Before: before, Limit: auditPage + 1,
		CustomerView: !currentUser(c).IsStaff()})
	if err != nil {
		return v, err
	}
	q := url.Values{}
	if slug != "" {
		q.Set("org", slug)
	}
	if action != "" {
		q.Set("action", action)
	}
	if len(entries) > auditPage {
		entries = entries[:auditPage]
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		v.OlderHref = base + "?" + q.Encode()
		q.Del("before")
	}
	if before > 0 {
		v.FirstHref = base
		if len(q) > 0 {
			v.FirstHref += "?" + q.Encode()
		}
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, views.AuditRow{
			ID: e.ID, At: l.DateTime(e.At), Actor: e.ActorName, Org: e.OrgName, Action: auditActionText(l, e.Action),
			ActionCode: e.Action, Target: auditTargetText(l, e.Action, e.Target), IP: e.IP,
		})
	}
	return v, nil
}

// staffAudit is the whole audit log for administrators, filterable by organisation and action.
func (s *Server) staffAudit(c *echo.Context) error {
	ctx := c.Request().Context()
	orgs, err := s.db.Orgs(ctx)
	if err != nil {
		return err
	}
	v, err := s.auditView(c, "/staff/audit", 0, orgs)
	if err != nil {
		return err
	}
	nav := staffNav(c, "audit")
	v.Nav = &nav
	l := i18n.From(ctx)
	return s.render(c, http.StatusOK, views.Audit(s.shell(c, l.T("audit.title")), v), nil)
}
