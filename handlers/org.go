package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The organisation's home and its people: members, invitations, roles, disabling. Every form here takes
// the organisation from the route (orgAccess loaded it and checked the viewer's membership); ids in the
// body or path are checked to belong to that organisation, and anything else answers 404.

// orgManagers lets through staff and the organisation's managers; viewers get 404 (the page does not
// exist for them). It runs after orgAccess.
func (s *Server) orgManagers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if !access.ManagesOrg(orgActor(c)) {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// orgHome is the organisation's start page.
func (s *Server) orgHome(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	o, role := currentOrg(c)
	v := views.OrgHomeView{
		Name: o.Name, Slug: o.Slug, IsCustomer: !u.IsStaff(), Support: *s.msp.Load(),
		FlashKey: s.sm.PopString(ctx, keyFlash),
	}
	if u.IsStaff() {
		v.RoleKey = "role." + u.StaffRole
	} else {
		v.RoleKey = "role." + role
		ms, err := s.db.Memberships(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Org.ID != o.ID {
				v.OtherOrgs = append(v.OtherOrgs, views.OrgChoice{Name: m.Org.Name, Slug: m.Org.Slug, RoleKey: "role." + m.Role})
			}
		}
	}
	nav, err := s.docsNav(c, o, db.DocScope{OrgID: o.ID, StaffView: u.IsStaff()}, "", "")
	if err != nil {
		return err
	}
	v.Nav = nav
	for _, a := range nav.Areas {
		v.Areas = append(v.Areas, views.OrgArea{Name: a.Name, LabelKey: a.TitleKey, Href: a.Href, Count: a.Count})
		v.DocsTotal += a.Count
	}
	if v.Emergency, err = s.emergencyLinks(ctx, o, u.IsStaff()); err != nil {
		return err
	}
	if access.ManagesOrg(orgActor(c)) { // the people pages' own rule (orgManagers)
		v.PeopleHref = "/o/" + o.Slug + "/people"
		v.AuditHref = "/o/" + o.Slug + "/audit"
	}
	return s.render(c, http.StatusOK, views.OrgHome(s.shell(c, o.Name), v), nil)
}

// Roles that can be given in an organisation and on the staff.
var (
	orgRoles   = []views.PeopleChoice{{Value: "manager", LabelKey: "role.manager"}, {Value: "viewer", LabelKey: "role.viewer"}}
	staffRoles = []views.PeopleChoice{{Value: "technician", LabelKey: "role.technician"}, {Value: "admin", LabelKey: "role.admin"}}
)

func roleAllowed(choices []views.PeopleChoice, role string) bool {
	for _, c := range choices {
		if c.Value == role {
			return true
		}
	}
	return false
}

// personStatus is what the people lists show: invited (no password yet), active or disabled.
func personStatus(p db.Person) string {
	switch {
	case p.Disabled:
		return "disabled"
	case p.Active:
		return "active"
	default:
		return "invited"
	}
}

// invitationRows turns invitations into rows; pending and expired ones can be re-sent and revoked.
func invitationRows(l *i18n.Localizer, invs []*db.Invitation, canAct bool) []views.InvitationRow {
	rows := make([]views.InvitationRow, 0, len(invs))
	for _, inv := range invs {
		open := inv.Status == db.InvitePending || inv.Status == db.InviteExpired
		by := inv.InvitedBy
		if by == "" {
			by = l.T("people.invited_by_cli")
		}
		rows = append(rows, views.InvitationRow{
			ID: inv.ID, Name: inv.Name, Email: inv.Email, RoleKey: "role." + inv.Role, Status: inv.Status,
			InvitedBy: by, Created: l.DateTime(inv.CreatedAt), Expires: l.DateTime(inv.ExpiresAt),
			CanResend: canAct && open, CanRevoke: canAct && open,
		})
	}
	return rows
}

// orgPeopleView builds the people page of an organisation for the current viewer.
func (s *Server) orgPeopleView(c *echo.Context) (views.PeopleView, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	o, _ := currentOrg(c)
	l := i18n.From(ctx)
	people, err := s.db.OrgPeople(ctx, o.ID)
	if err != nil {
		return views.PeopleView{}, err
	}
	invs, err := s.db.Invitations(ctx, o.ID)
	if err != nil {
		return views.PeopleView{}, err
	}
	v := views.PeopleView{
		OrgName: o.Name, Base: "/o/" + o.Slug, CanInvite: true, RoleChoices: orgRoles,
		Invite:    views.InviteForm{Role: "viewer", Lang: l.Lang},
		AuditHref: "/o/" + o.Slug + "/audit",
	}
	actor, err := s.actor(c)
	if err != nil {
		return v, err
	}
	facts, err := s.db.OrgPeopleFacts(ctx, o.ID)
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
		// The page offers what the policy allows, so a manager sees no button for a person who also
		// belongs to organisations they do not manage.
		f := facts[p.UserID]
		target := &access.Person{ID: p.UserID, StaffRole: f.StaffRole, Orgs: f.Orgs}
		may := func(a access.Action) bool { return access.Decide(actor, a, o.ID, target) == nil }
		row.CanChangeRole = may(access.ChangeRole)
		if may(access.SetDisabled) {
			row.CanDisable, row.CanEnable = !p.Disabled, p.Disabled
		}
		if p.Active && !p.Disabled && may(access.ResetSecondFactor) {
			row.MFAReset = &views.MFAResetFormView{Action: "/o/" + o.Slug + "/people/" + strconv.FormatInt(p.UserID, 10) + "/mfa-reset",
				Next: "/o/" + o.Slug + "/people", Name: p.Name}
		}
		v.Members = append(v.Members, row)
	}
	v.Invitations = invitationRows(l, invs, true)
	return v, nil
}

func (s *Server) renderOrgPeople(c *echo.Context, status int, v views.PeopleView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.People(s.shell(c, l.T("people.title")), v), nil)
}

// orgPeople lists an organisation's people and invitations.
func (s *Server) orgPeople(c *echo.Context) error {
	v, err := s.orgPeopleView(c)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderOrgPeople(c, http.StatusOK, v)
}

// orgPeopleRefuse re-renders the people page with a message and 422.
func (s *Server) orgPeopleRefuse(c *echo.Context, key string) error {
	v, err := s.orgPeopleView(c)
	if err != nil {
		return err
	}
	v.ErrorKey = key
	return s.renderOrgPeople(c, http.StatusUnprocessableEntity, v)
}

// orgPeopleDone goes back to the people page with a one-time message.
func (s *Server) orgPeopleDone(c *echo.Context, flash string) error {
	o, _ := currentOrg(c)
	s.sm.Put(c.Request().Context(), keyFlash, flash)
	return s.redirect(c, "/o/"+o.Slug+"/people")
}

// readInviteForm reads and checks the invitation form. Only the roles in choices can be asked for.
func readInviteForm(c *echo.Context, choices []views.PeopleChoice) (views.InviteForm, bool) {
	f := views.InviteForm{
		Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: c.FormValue("role"), Lang: c.FormValue("lang"),
	}
	if f.Email == "" {
		f.EmailErr = "people.error.email_required"
	} else if !inviteEmailOK(f.Email) {
		f.EmailErr = "people.error.email_invalid"
	}
	if !peopleTextOK(f.Name, 100) {
		f.NameErr = "people.error.name_invalid"
	}
	if !roleAllowed(choices, f.Role) {
		f.RoleErr = "people.error.role"
	}
	if !i18n.Supported(f.Lang) {
		f.LangErr = "people.error.lang"
	}
	return f, f.EmailErr == "" && f.NameErr == "" && f.RoleErr == "" && f.LangErr == ""
}

// inviteEmailOK is ValidEmail, stricter for invitations: no quoted local parts, and a domain with a dot,
// because the address must receive the invitation mail.
func inviteEmailOK(addr string) bool {
	if !utf8.ValidString(addr) || strings.ContainsAny(addr, " <>,;\"\\") || !ValidEmail(addr) {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && strings.Contains(addr[at+1:], ".") && !strings.HasSuffix(addr, ".")
}

// peopleTextOK accepts valid UTF-8 without control characters, at most max characters.
func peopleTextOK(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// inviteFlash is the page's message for what Invite did.
func inviteFlash(r InviteResult) string {
	switch r {
	case Resent:
		return "people.flash.resent"
	case AlreadyMember:
		return "people.flash.already_member"
	}
	return "people.flash.invited"
}

// orgInvite invites a person to the route's organisation as manager or viewer. The answer is the same for
// an unknown address, one of another organisation and one of MSP staff (see Invite).
func (s *Server) orgInvite(c *echo.Context) error {
	ctx := c.Request().Context()
	o, _ := currentOrg(c)
	f, ok := readInviteForm(c, orgRoles)
	if ok {
		by, err := s.actor(c)
		if err != nil {
			return err
		}
		link, inv, res, err := s.Invite(ctx, InviteRequest{Email: f.Email, Name: f.Name, Lang: f.Lang, OrgID: o.ID, Role: f.Role,
			By: by, Actor: s.auditEntry(c, o.ID, "", "")})
		if key := refusalKey(err); key != "" {
			f.EmailErr, ok = key, false
		} else if err != nil {
			return notFound(err)
		} else {
			return s.invited(c, &sentInvitation{link, inv}, inviteFlash(res), s.orgPeopleView, s.renderOrgPeople, s.orgPeopleDone)
		}
	}
	v, err := s.orgPeopleView(c)
	if err != nil {
		return err
	}
	v.Invite = f
	return s.renderOrgPeople(c, http.StatusUnprocessableEntity, v)
}

// peopleRefusal answers a refusal of the policy on the people page of orgID (0: the staff's) with its
// message and 422, or passes any other error on (a "not found" as 404).
func (s *Server) peopleRefusal(c *echo.Context, orgID int64, err error) error {
	key := refusalKey(err)
	switch {
	case key == "":
		return notFound(err)
	case orgID == 0:
		return s.staffPeopleRefuse(c, key)
	}
	return s.orgPeopleRefuse(c, key)
}

// orgInvitation loads the invitation of the path's :id if it belongs to the route's organisation.
func (s *Server) orgInvitation(c *echo.Context, orgID int64) (*db.Invitation, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, db.ErrNotFound
	}
	inv, err := s.db.InvitationByID(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if inv.OrgID != orgID {
		return nil, db.ErrNotFound
	}
	return inv, nil
}

// invitationFor loads the invitation of the path's :id in orgID and asks the policy whether the signed-in
// person may do action to it. An invitation that was accepted or revoked answers 409.
func (s *Server) invitationFor(c *echo.Context, orgID int64, action access.Action) (*db.Invitation, error) {
	inv, err := s.orgInvitation(c, orgID)
	if err != nil {
		return nil, err
	}
	invitee, err := s.db.UserByID(c.Request().Context(), inv.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.decide(c, action, orgID, invitee); err != nil {
		return nil, err
	}
	if inv.Status != db.InvitePending && inv.Status != db.InviteExpired {
		return nil, db.ErrConflict
	}
	return inv, nil
}

// resendInvitation sends an open invitation again with a new link; the old link dies.
func (s *Server) resendInvitation(c *echo.Context, orgID int64) (*sentInvitation, error) {
	inv, err := s.invitationFor(c, orgID, access.ResendInvitation)
	if err != nil {
		return nil, err
	}
	link, inv, err := s.ReissueInvitation(c.Request().Context(), inv.ID, s.auditEntry(c, orgID, "", ""))
	return &sentInvitation{link, inv}, err
}

// revokeInvitation withdraws an open invitation. The person keeps everything else: the invitation gave
// them nothing.
func (s *Server) revokeInvitation(c *echo.Context, orgID int64) error {
	inv, err := s.invitationFor(c, orgID, access.RevokeInvitation)
	if err != nil {
		return err
	}
	if err := s.db.RevokeInvitation(c.Request().Context(), inv.ID); errors.Is(err, db.ErrNotFound) {
		return db.ErrConflict // accepted or revoked meanwhile
	} else if err != nil {
		return err
	}
	s.audit(c, orgID, "invite.revoke", inv.Email+" ("+inv.Role+")")
	return nil
}

func (s *Server) orgResend(c *echo.Context) error {
	o, _ := currentOrg(c)
	sent, err := s.resendInvitation(c, o.ID)
	if err != nil {
		return s.peopleRefusal(c, o.ID, err)
	}
	return s.invited(c, sent, "people.flash.resent", s.orgPeopleView, s.renderOrgPeople, s.orgPeopleDone)
}

func (s *Server) orgRevoke(c *echo.Context) error {
	o, _ := currentOrg(c)
	if err := s.revokeInvitation(c, o.ID); err != nil {
		return s.peopleRefusal(c, o.ID, err)
	}
	return s.orgPeopleDone(c, "people.flash.revoked")
}

// orgMember loads the person of the path's :uid with their role in the route's organisation, and asks
// the policy whether the signed-in person may do action to them. Someone who is not a member answers 404.
func (s *Server) orgMember(c *echo.Context, action access.Action) (*db.User, string, error) {
	ctx := c.Request().Context()
	o, _ := currentOrg(c)
	id, err := strconv.ParseInt(c.Param("uid"), 10, 64)
	if err != nil || id <= 0 {
		return nil, "", db.ErrNotFound
	}
	role, err := s.db.MemberRole(ctx, id, o.ID)
	if err != nil {
		return nil, "", err
	}
	m, err := s.db.UserByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := s.decide(c, action, o.ID, m); err != nil {
		return nil, "", err
	}
	return m, role, nil
}

// orgSetRole changes a member's role (manager or viewer). Nobody changes their own role: a manager who
// made themselves a viewer would lock themselves out of this page.
func (s *Server) orgSetRole(c *echo.Context) error {
	ctx := c.Request().Context()
	o, _ := currentOrg(c)
	m, old, err := s.orgMember(c, access.ChangeRole)
	if err != nil {
		return s.peopleRefusal(c, o.ID, err)
	}
	role := c.FormValue("role")
	switch {
	case !roleAllowed(orgRoles, role):
		return s.orgPeopleRefuse(c, "people.error.role")
	case role == old:
		return s.orgPeopleDone(c, "people.flash.role")
	}
	if err := s.db.SetMemberRole(ctx, m.ID, o.ID, role); err != nil {
		return err
	}
	s.audit(c, o.ID, "member.role", m.Email+" ("+old+" → "+role+")")
	return s.orgPeopleDone(c, "people.flash.role")
}

// orgSetDisabled disables (ending every session) or enables a member's account. The account is shared by
// all the person's organisations: a manager may do so only when they manage every one of them
// (access.Decide).
func (s *Server) orgSetDisabled(disabled bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		o, _ := currentOrg(c)
		m, _, err := s.orgMember(c, access.SetDisabled)
		if err != nil {
			return s.peopleRefusal(c, o.ID, err)
		}
		if err := s.db.SetDisabled(ctx, m.ID, disabled); err != nil {
			return err
		}
		action, flash := "user.enable", "people.flash.enabled"
		if disabled {
			action, flash = "user.disable", "people.flash.disabled"
		}
		s.audit(c, o.ID, action, m.Email)
		return s.orgPeopleDone(c, flash)
	}
}

// orgAudit shows the organisation's audit entries (staff actions on it included) to its managers.
func (s *Server) orgAudit(c *echo.Context) error {
	o, _ := currentOrg(c)
	v, err := s.auditView(c, "/o/"+o.Slug+"/audit", o.ID, nil)
	if err != nil {
		return err
	}
	v.OrgName = o.Name
	l := i18n.From(c.Request().Context())
	return s.render(c, http.StatusOK, views.Audit(s.shell(c, l.T("audit.title")), v), nil)
}
