package handlers

import (
	"strconv"
	"time"

	"portier/db"
	"portier/docs"
	"portier/views"
)

// historyDiff is what changed from prev to ver, field by field, in words a person reads (options
// translated, dates localized, contacts by name). A secret is never compared on the page: it is said to
// be set, changed or removed, and each side is revealed only on request (docsRevealVersion, audited).
// prev is nil for the first version, whose secrets count as set.
func historyDiff(r *docReq, prev, ver *db.DocVersion, itemBase string, contacts map[string]string, now time.Time) ([]views.HistoryChange, []views.HistorySecret) {
	var changes []views.HistoryChange
	var secrets []views.HistorySecret
	text := func(f docs.Field, v *db.DocVersion) string {
		if v.Fields[f.Name] == "" {
			return ""
		}
		return cell(r.l, r.area, f, &db.DocItem{Fields: v.Fields}, contacts, now).Text
	}
	versionURL := func(v *db.DocVersion, field string) string {
		return itemBase + "/versions/" + strconv.FormatInt(v.ID, 10) + "/secret/" + field
	}
	changed := map[string]bool{}
	for _, f := range ver.Secrets {
		changed[f] = true
	}
	for _, f := range r.area.Fields {
		switch {
		case f.IsSecret():
			had := prev != nil && prev.HasSecret[f.Name]
			has := ver.HasSecret[f.Name]
			if !changed[f.Name] && had == has {
				continue
			}
			hs := views.HistorySecret{Field: f.Name, LabelKey: f.LabelKey(r.area.Name), StateKey: "docs.history.secret_changed"}
			switch {
			case !has && !had:
				continue
			case !has:
				hs.StateKey = "docs.history.secret_removed"
			case !had:
				hs.StateKey = "docs.history.secret_set"
			}
			if has {
				hs.RevealURL = versionURL(ver, f.Name)
			}
			if had {
				hs.PrevURL = versionURL(prev, f.Name)
			}
			secrets = append(secrets, hs)
		case prev == nil:
		case f.Name == "name":
			if prev.Name != ver.Name {
				changes = append(changes, views.HistoryChange{LabelKey: f.LabelKey(r.area.Name), Old: prev.Name, New: ver.Name})
			}
		case prev.Fields[f.Name] != ver.Fields[f.Name]:
			changes = append(changes, views.HistoryChange{LabelKey: f.LabelKey(r.area.Name), Old: text(f, prev), New: text(f, ver)})
		}
	}
	if prev != nil && prev.StaffOnly != ver.StaffOnly {
		changes = append(changes, views.HistoryChange{LabelKey: "docs.staff_only", Old: boolText(r.l, prev.StaffOnly), New: boolText(r.l, ver.StaffOnly)})
	}
	return changes, secrets
}
