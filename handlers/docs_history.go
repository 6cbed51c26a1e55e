package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
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
	now := s.now()
	for _, he := range h.Entries {
		e := views.HistoryEntry{Version: he.Version, ChangeKey: "docs.change." + he.Change, At: r.l.DateTime(he.At), By: he.By}
		e.Changes, e.Secrets = historyWords(r, he, itemBase, h.Contacts, now)
		v.Entries = append(v.Entries, e)
	}
	if v.LinkEvents, err = s.linkHistory(c, h.Item); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DocHistory(s.shell(c, r.l.T("docs.history_of", "name", h.Item.Name)), v), nil)
}

// historyWords puts a version's changes (docsapp compared it with the one before) in words a person reads:
// options translated, dates localized, contacts by name; a secret's change with the links that reveal
// each side on request (docsRevealVersion, audited).
func historyWords(r *docReq, he docsapp.HistoryEntry, itemBase string, contacts map[string]string, now time.Time) ([]views.HistoryChange, []views.HistorySecret) {
	text := func(f docs.Field, v *db.DocVersion) string {
		if v.Fields[f.Name] == "" {
			return ""
		}
		return cell(r.l, r.area, f, &db.DocItem{Fields: v.Fields}, contacts, now).Text
	}
	versionURL := func(id int64, field string) string {
		return itemBase + "/versions/" + strconv.FormatInt(id, 10) + "/secret/" + field
	}
	var changes []views.HistoryChange
	for _, ch := range he.Changes {
		f, _ := r.area.Field(ch.Field)
		switch ch.Field {
		case docsapp.StaffOnlyChange:
			changes = append(changes, views.HistoryChange{LabelKey: "docs.staff_only", Old: boolText(r.l, ch.Old != ""), New: boolText(r.l, ch.New != "")})
		case "name":
			changes = append(changes, views.HistoryChange{LabelKey: f.LabelKey(r.area.Name), Old: ch.Old, New: ch.New})
		default:
			changes = append(changes, views.HistoryChange{LabelKey: f.LabelKey(r.area.Name), Old: text(f, he.Prev), New: text(f, &he.DocVersion)})
		}
	}
	var secrets []views.HistorySecret
	for _, sc := range he.Secrets {
		f, _ := r.area.Field(sc.Field)
		hs := views.HistorySecret{Field: sc.Field, LabelKey: f.LabelKey(r.area.Name), StateKey: "docs.history." + sc.State}
		if sc.Version != 0 {
			hs.RevealURL = versionURL(sc.Version, sc.Field)
		}
		if sc.PrevVer != 0 {
			hs.PrevURL = versionURL(sc.PrevVer, sc.Field)
		}
		secrets = append(secrets, hs)
	}
	return changes, secrets
}

func boolText(l *i18n.Localizer, b bool) string {
	if b {
		return l.T("docs.yes")
	}
	return l.T("docs.no")
}
