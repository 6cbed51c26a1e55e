package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/views"
)

// The organisation's home, who may manage its people (the pages are in people.go) and its audit log.

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
	viewer := s.viewer(c)
	nav, err := s.docsNav(c, o, viewer.Scope(), "", "")
	if err != nil {
		return err
	}
	v.Nav = nav
	for _, a := range nav.Areas {
		v.Areas = append(v.Areas, views.OrgArea{Name: a.Name, LabelKey: a.TitleKey, Href: a.Href, Count: a.Count})
		v.DocsTotal += a.Count
	}
	if v.Emergency, err = s.emergencyLinks(ctx, viewer); err != nil {
		return err
	}
	if access.ManagesOrg(orgActor(c)) { // the people pages' own rule (orgManagers)
		v.PeopleHref = "/o/" + o.Slug + "/people"
		v.AuditHref = "/o/" + o.Slug + "/audit"
	}
	return s.render(c, http.StatusOK, views.OrgHome(s.shell(c, o.Name), v), nil)
}
