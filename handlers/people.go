package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/accounts"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// The two people pages: an organisation's (its members and invitations, for its managers and staff) and
// the MSP staff's (for staff; administrators invite and disable). They are one implementation with a
// different place: every form takes the place from the route (orgAccess loaded the organisation and
// checked the viewer's membership), ids in the body or path are checked to belong to it, anything else
// answers 404, and every action asks accounts, which asks access.Decide.

// Roles that can be given in an organisation and on the staff.
var (
	orgRoles   = []views.PeopleChoice{{Value: "manager", LabelKey: "role.manager"}, {Value: "viewer", LabelKey: "role.viewer"}}
	staffRoles = []views.PeopleChoice{{Value: "technician", LabelKey: "role.technician"}, {Value: "admin", LabelKey: "role.admin"}}
)

// peoplePlace is the place a people page is about.
type peoplePlace struct {
	org      *db.Org // nil: the MSP's staff
	orgID    int64
	base     string // /o/<slug> or /staff
	titleKey string
	roles    []views.PeopleChoice
}

// placeOf is the place of the request's route: the organisation orgAccess loaded, else the staff.
func placeOf(c *echo.Context) peoplePlace {
	if o, _ := currentOrg(c); o != nil {
		return peoplePlace{org: o, orgID: o.ID, base: "/o/" + o.Slug, titleKey: "people.title", roles: orgRoles}
	}
	return peoplePlace{base: "/staff", titleKey: "staff.people.title", roles: staffRoles}
}

func (p peoplePlace) listPath() string { return p.base + "/people" }

// mfaResetPath is where the page's second-factor reset form posts for person id.
func (p peoplePlace) mfaResetPath(id int64) string {
	if p.org == nil {
		return "/staff/users/" + strconv.FormatInt(id, 10) + "/mfa-reset"
	}
	return p.base + "/people/" + strconv.FormatInt(id, 10) + "/mfa-reset"
}

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
func invitationRows(l *i18n.Localizer, invs []*db.Invitation) []views.InvitationRow {
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
			CanResend: open, CanRevoke: open,
		})
	}
	return rows
}

// peopleView builds the people page of the route's place for the current viewer. It offers what the
// policy allows, so a manager sees no button for a person who also belongs to organisations they do not
// manage.
func (s *Server) peopleView(c *echo.Context) (views.PeopleView, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	l := i18n.From(ctx)
	pl := placeOf(c)
	v := views.PeopleView{Base: pl.base, RoleChoices: pl.roles, Invite: views.InviteForm{Lang: l.Lang}}
	var people []db.Person
	var facts map[int64]db.PersonFacts
	admins := 0
	var err error
	if pl.org != nil {
		v.OrgName, v.CanInvite, v.AuditHref, v.Invite.Role = pl.org.Name, true, pl.base+"/audit", "viewer"
		if people, err = s.db.OrgPeople(ctx, pl.orgID); err != nil {
			return v, err
		}
		if facts, err = s.db.OrgPeopleFacts(ctx, pl.orgID); err != nil {
			return v, err
		}
	} else {
		nav := staffNav(c, "people")
		v.Staff, v.CanInvite, v.Invite.Role = &nav, u.IsAdmin(), "technician"
		if people, err = s.db.StaffPeople(ctx); err != nil {
			return v, err
		}
		if admins, err = s.db.CountAdmins(ctx); err != nil {
			return v, err
		}
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
		if pl.org != nil {
			f := facts[p.UserID]
			target = &access.Person{ID: p.UserID, StaffRole: f.StaffRole, Orgs: f.Orgs}
		}
		may := func(a access.Action) bool { return access.Decide(actor, a, pl.orgID, target) == nil }
		row.CanChangeRole = pl.org != nil && may(access.ChangeRole)
		if pl.org != nil && may(access.RemoveMembership) {
			who := p.Name
			if who == "" {
				who = p.Email
			}
			id := strconv.FormatInt(p.UserID, 10)
			row.Remove = &views.ConfirmFormView{Action: pl.base + "/people/" + id + "/remove", Name: who,
				HintKey: "people.remove.hint", ButtonKey: "people.remove.submit", TestID: "member-remove-" + id}
		}
		if may(access.SetDisabled) {
			// The last enabled administrator stays (accounts.ErrLastAdmin): no button for it.
			row.CanDisable = !p.Disabled && !(pl.org == nil && p.Role == access.Admin && admins <= 1)
			row.CanEnable = p.Disabled
		}
		if p.Active && !p.Disabled && may(access.ResetSecondFactor) {
			row.MFAReset = &views.MFAResetFormView{Action: pl.mfaResetPath(p.UserID), Next: pl.listPath(), Name: p.Name}
		}
		v.Members = append(v.Members, row)
	}
	// The staff's invitations are the administrators' business.
	if pl.org != nil || u.IsAdmin() {
		invs, err := s.db.Invitations(ctx, pl.orgID)
		if err != nil {
			return v, err
		}
		v.Invitations = invitationRows(l, invs)
	}
	return v, nil
}

func (s *Server) renderPeople(c *echo.Context, status int, v views.PeopleView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.People(s.shell(c, l.T(placeOf(c).titleKey)), v), nil)
}

// peopleList shows the people page.
func (s *Server) peopleList(c *echo.Context) error {
	v, err := s.peopleView(c)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	v.Withdrawn = s.sm.PopInt(c.Request().Context(), keyWithdrawn)
	return s.renderPeople(c, http.StatusOK, v)
}

// peopleRefuse re-renders the people page with a message and 422.
func (s *Server) peopleRefuse(c *echo.Context, key string) error {
	v, err := s.peopleView(c)
	if err != nil {
		return err
	}
	v.ErrorKey = key
	return s.renderPeople(c, http.StatusUnprocessableEntity, v)
}

// peopleDone goes back to the people page with a one-time message.
func (s *Server) peopleDone(c *echo.Context, flash string) error {
	return s.peopleChanged(c, flash, 0)
}

// keyWithdrawn is the session key of how many open invitations the change just made withdrew.
const keyWithdrawn = "flash_withdrawn"

// peopleChanged is peopleDone after a change that withdrew the open invitations the person had sent,
// which the page then counts (accounts.withdrawUnbacked).
func (s *Server) peopleChanged(c *echo.Context, flash string, withdrawn int) error {
	s.sm.Put(c.Request().Context(), keyFlash, flash)
	// The count goes with this flash: one left by an earlier change whose page was never shown would be
	// told as this change's.
	if withdrawn > 0 {
		s.sm.Put(c.Request().Context(), keyWithdrawn, withdrawn)
	} else {
		s.sm.Remove(c.Request().Context(), keyWithdrawn)
	}
	return s.redirect(c, placeOf(c).listPath())
}

// peopleRefusal answers a refusal of the policy on the people page with its message and 422, or passes
// any other error on (a "not found" as 404).
func (s *Server) peopleRefusal(c *echo.Context, err error) error {
	key := refusalKey(err)
	if key == "" {
		return notFound(err)
	}
	return s.peopleRefuse(c, key)
}

// person loads the person of the path's :uid (or :id) if they belong to the route's place: a member of the
// organisation (with their role there) or a staff member (with their staff role). Anyone else answers
// 404: customers are managed on their organisation's page.
func (s *Server) person(c *echo.Context) (*db.User, string, error) {
	ctx := c.Request().Context()
	pl := placeOf(c)
	param := c.Param("uid")
	if param == "" {
		param = c.Param("id")
	}
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil || id <= 0 {
		return nil, "", db.ErrNotFound
	}
	role := ""
	if pl.org != nil {
		if role, err = s.db.MemberRole(ctx, id, pl.orgID); err != nil {
			return nil, "", err
		}
	}
	m, err := s.db.UserByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if pl.org == nil {
		if !m.IsStaff() {
			return nil, "", db.ErrNotFound
		}
		role = m.StaffRole
	}
	return m, role, nil
}

// personSetRole changes a member's role in the organisation (manager or viewer).
func (s *Server) personSetRole(c *echo.Context) error {
	pl := placeOf(c)
	m, old, err := s.person(c)
	withdrawn := 0
	if err == nil {
		withdrawn, err = s.accounts.SetRole(c.Request().Context(), currentUser(c), pl.orgID, m, old, c.FormValue("role"), s.auditEntry(c, 0, "", ""))
	}
	var bad accounts.Invalid
	if errors.As(err, &bad) {
		return s.peopleRefuse(c, bad["role"])
	}
	if err != nil {
		return s.peopleRefusal(c, err)
	}
	return s.peopleChanged(c, "people.flash.role", withdrawn)
}

// personRemove ends a person's membership of the organisation and revokes their open invitations to it.
// Their account and sessions stay (other organisations share them); orgAccess reads the membership on
// every request, so their next one to this organisation is refused like any organisation not theirs.
func (s *Server) personRemove(c *echo.Context) error {
	m, _, err := s.person(c)
	withdrawn := 0
	if err == nil {
		withdrawn, err = s.accounts.RemoveMember(c.Request().Context(), currentUser(c), placeOf(c).orgID, m, s.auditEntry(c, 0, "", ""))
	}
	if err != nil {
		return s.peopleRefusal(c, err)
	}
	return s.peopleChanged(c, "people.flash.removed", withdrawn)
}

// personSetDisabled disables (ending every session) or enables a person's account. The account is shared
// by all the person's organisations, so a manager may do so only when they manage every one of them;
// nobody disables themselves, and the last enabled administrator stays (accounts.SetDisabled).
func (s *Server) personSetDisabled(disabled bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		m, _, err := s.person(c)
		withdrawn := 0
		if err == nil {
			withdrawn, err = s.accounts.SetDisabled(c.Request().Context(), access.Person{ID: currentUser(c).ID}, placeOf(c).orgID, m, disabled, s.auditEntry(c, 0, "", ""))
		}
		switch {
		case errors.Is(err, accounts.ErrLastAdmin):
			return s.peopleRefuse(c, "staff.error.last_admin")
		case err != nil:
			return s.peopleRefusal(c, err)
		case disabled:
			return s.peopleChanged(c, "people.flash.disabled", withdrawn)
		}
		return s.peopleDone(c, "people.flash.enabled")
	}
}

// personMFAReset resets a person's second factors: they enrol again at the next sign-in. The factors
// belong to the account, which every organisation of the person shares: access.Decide lets a manager do
// it only when they manage all of them.
func (s *Server) personMFAReset(c *echo.Context) error {
	ctx := c.Request().Context()
	pl := placeOf(c)
	id, err := methodParam(c)
	if err != nil {
		return err
	}
	target, err := s.db.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.accounts.ResetSecondFactors(ctx, currentUser(c), pl.orgID, target, s.auditEntry(c, 0, "", "")); err != nil {
		return s.peopleRefusal(c, err)
	}
	return s.redirect(c, safeNext(c.FormValue("next"), pl.listPath()))
}
