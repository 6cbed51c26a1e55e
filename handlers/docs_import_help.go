package handlers

import (
	"strings"
	"unicode/utf8"

	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// cellProblem describes a refused value so that it can be fixed without guessing: the value as written
// (shortened; never a secret's, which must not reach a page) and, for a choice, every accepted option.
func cellProblem(area *docs.Area, f docs.Field, line int, raw, key string) importProblem {
	p := importProblem{Line: line, Column: f.LabelKey(area.Name), Key: key}
	if !f.IsSecret() {
		p.Value = strings.TrimSpace(raw)
		if utf8.RuneCountInString(p.Value) > 60 {
			p.Value = string([]rune(p.Value)[:60]) + "…"
		}
	}
	if f.Kind == docs.Enum && key == "docs.err.option" {
		for _, o := range f.Options {
			p.Allowed = append(p.Allowed, f.OptionKey(o))
		}
	}
	return p
}

// importProblemView names the column in the viewer's language (an unknown header as it was written) and
// lists the accepted options by their labels, which the import accepts in either language.
func importProblemView(l *i18n.Localizer, p importProblem) views.ImportProblem {
	v := views.ImportProblem{Line: p.Line, Column: l.T(p.Column), Key: p.Key, Value: p.Value}
	labels := make([]string, len(p.Allowed))
	for i, k := range p.Allowed {
		labels[i] = l.T(k)
	}
	v.Allowed = strings.Join(labels, ", ")
	return v
}
