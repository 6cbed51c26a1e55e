package handlers

import (
	"strings"

	"portier/db"
	"portier/docs"
	"portier/views"
)

// maxMatches is how many matching fields a result shows.
const maxMatches = 2

// searchMatches are the fields of a result, other than its name, that contain a searched word: the
// reason it was found (an IP address, a serial number, a line of the notes). Secrets are never searched
// or shown; a contact is shown by its id's field only when the id itself was typed, which nobody does.
func searchMatches(it *db.DocItem, q db.SearchTerms) []views.SearchMatch {
	a, ok := docs.ByName(it.Area)
	if !ok {
		return nil
	}
	var out []views.SearchMatch
	for _, f := range a.Fields {
		if f.Name == "name" || f.IsSecret() || f.Kind == docs.Contact || f.Kind == docs.Enum || f.Kind == docs.Bool {
			continue
		}
		v := it.Fields[f.Name]
		if v == "" || !q.Hits(v) {
			continue
		}
		out = append(out, views.SearchMatch{LabelKey: f.LabelKey(a.Name), Text: excerpt(v, q)})
		if len(out) == maxMatches {
			break
		}
	}
	return out
}

// excerpt is the line of a (possibly long) value that holds a searched word, cut to 120 characters.
func excerpt(v string, q db.SearchTerms) string {
	line := v
	for _, l := range strings.Split(v, "\n") {
		if q.Hits(l) {
			line = l
			break
		}
	}
	if r := []rune(line); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	return line
}
