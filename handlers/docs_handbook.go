package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/docs"
	"portier/views"
)

// handbook is the printable emergency handbook: every area of the organisation, with its emergency
// procedures, on one page. Secrets appear
// only after an explicit, audited choice (a POST with secrets=1); see docsapp.Service.Handbook.
func (s *Server) handbook(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	withSecrets := c.Request().Method == http.MethodPost && c.FormValue("secrets") == "1"
	ctx := c.Request().Context()
	areas, err := s.areasFor(ctx)
	if err != nil {
		return err
	}
	h, err := s.docs.Handbook(ctx, r.v, areas, withSecrets)
	if err != nil {
		return err
	}
	now := s.now()
	v := views.HandbookView{OrgName: r.org.Name, Generated: r.l.DateTime(now), WithSecrets: withSecrets, Action: "/o/" + r.org.Slug + "/handbook",
		CSS: s.assets.URL("handbook.css"), JS: s.assets.URL("handbook.js")}
	if v.Procedures, err = s.handbookProcedures(ctx, r.v); err != nil {
		return err
	}
	for _, hs := range h.Sections {
		area := hs.Area
		sec := views.HandbookSection{Name: area.Name, TitleKey: area.TitleKey()}
		for _, it := range hs.Items {
			sec.Items = append(sec.Items, handbookItem(area, it, hs.Secrets[it.ID], func(f docs.Field) string {
				return cell(r.l, area, f, it, hs.Contacts, now).Text
			}))
		}
		v.Sections = append(v.Sections, sec)
	}
	if withSecrets {
		noStore(c)
	}
	return s.render(c, http.StatusOK, views.Handbook(s.shell(c, r.l.T("docs.handbook.title")), v), nil)
}
