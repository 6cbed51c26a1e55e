package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/i18n"
	"portier/views"
)

// A customer who belongs to several organisations lists them and switches between them.

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
