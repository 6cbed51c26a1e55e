package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/views"
)

// Templates: MSP-wide documents in the staff area (a viewer without an organisation, for docsapp), copied
// into organisations from their documents page. They share the documents' form and save path
// (docs_articles_edit.go).

func (s *Server) templateList(c *echo.Context) error {
	ctx := c.Request().Context()
	sv := s.viewer(c)
	l := sv.L
	list, err := s.docs.Templates(ctx, sv)
	if err != nil {
		return err
	}
	v := views.TemplatesView{Nav: staffNav(c, "templates"), NewHref: "/staff/templates/new"}
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "templates.") {
		v.FlashKey = key
	}
	for _, a := range list {
		v.Rows = append(v.Rows, views.ArticleRow{Title: a.Title, Href: "/staff/templates/" + strconv.FormatInt(a.ID, 10), Emergency: a.Emergency,
			Updated: l.Date(a.UpdatedAt.In(l.TZ))})
	}
	return s.render(c, http.StatusOK, views.Templates(s.shell(c, l.T("templates.title")), v), nil)
}

func (s *Server) templateEdit(c *echo.Context) error {
	return s.editDocument(c, s.templateDocForm(c))
}

// templateSave is the one save path of the templates' form, new or existing.
func (s *Server) templateSave(c *echo.Context) error {
	return s.saveDocument(c, s.templateDocForm(c), func(int64) error {
		s.sm.Put(c.Request().Context(), keyFlash, "templates.saved")
		return s.redirect(c, "/staff/templates")
	})
}

func (s *Server) templateDelete(c *echo.Context) error {
	if _, err := s.docs.DeleteDocument(c.Request().Context(), s.viewer(c), routeID(c)); err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyFlash, "templates.deleted")
	return s.redirect(c, "/staff/templates")
}
