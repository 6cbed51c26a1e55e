package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/db"
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
	now := s.now()
	for i := range h.Entries {
		ver := &h.Entries[i].DocVersion
		e := views.HistoryEntry{Version: ver.Version, ChangeKey: "docs.change." + ver.Change, At: r.l.DateTime(ver.At), By: ver.By}
		var prev *db.DocVersion
		if i+1 < len(h.Entries) {
			prev = &h.Entries[i+1].DocVersion
		}
		e.Changes, e.Secrets = historyDiff(r, prev, ver, itemBase, h.Contacts, now)
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
