package handlers

import (
	"strings"

	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// importProblemView names the column in the viewer's language (an unknown header as it was written) and
// lists the accepted options by their labels, which the import accepts in either language.
func importProblemView(l *i18n.Localizer, p docsapp.ImportProblem) views.ImportProblem {
	v := views.ImportProblem{Line: p.Line, Column: l.T(p.Column), Key: p.Key, Value: p.Value}
	labels := make([]string, len(p.Allowed))
	for i, k := range p.Allowed {
		labels[i] = l.T(k)
	}
	v.Allowed = strings.Join(labels, ", ")
	return v
}
