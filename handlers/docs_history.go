package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

func (s *Server) docsHistory(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	h, err := s.docs.History(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	nav, err := s.nav(c, r, "")
	if err != nil {
		return err
	}
	itemBase := r.itemHref(h.Item.ID)
	v := views.DocHistoryView{Nav: nav, Name: h.Item.Name, BackHref: itemBase}
	for _, ver := range h.Entries {
		e := views.HistoryEntry{Version: ver.Version, ChangeKey: "docs.change." + ver.Change, At: r.l.DateTime(ver.At), By: ver.By}
		for _, ch := range ver.Changes {
			if ch.Field == docsapp.StaffOnlyChange {
				e.Changes = append(e.Changes, views.HistoryChange{LabelKey: "docs.staff_only", Old: boolText(r.l, ch.Old == "1"), New: boolText(r.l, ch.New == "1")})
				continue
			}
			e.Changes = append(e.Changes, views.HistoryChange{LabelKey: fieldLabelKey(r.area, ch.Field), Old: ch.Old, New: ch.New})
		}
		for _, f := range ver.Secrets {
			e.Secrets = append(e.Secrets, views.HistorySecret{Field: f, LabelKey: fieldLabelKey(r.area, f),
				RevealURL: itemBase + "/versions/" + strconv.FormatInt(ver.ID, 10) + "/secret/" + f})
		}
		v.Entries = append(v.Entries, e)
	}
	if v.LinkEvents, err = s.linkHistory(c, h.Item); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DocHistory(s.shell(c, r.l.T("docs.history_of", "name", h.Item.Name)), v), nil)
}

func boolText(l *i18n.Localizer, b bool) string {
	if b {
		return l.T("docs.yes")
	}
	return l.T("docs.no")
}
