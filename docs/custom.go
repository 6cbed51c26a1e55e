package docs

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Custom fields: an MSP administrator adds fields to an area. They are Fields like the built-in ones, so
// the form, the detail page, the list, search, CSV import/export and the handbook show them without code of
// their own: an organisation's pages use the area returned by WithCustom.

// CustomKinds are the kinds an administrator may choose, by their stored name.
var CustomKinds = []string{"text", "number", "date", "choice", "url", "secret"}

// CustomKind maps a stored kind name to the field kind.
func CustomKind(name string) (Kind, bool) {
	switch name {
	case "text":
		return Text, true
	case "number":
		return Number, true
	case "date":
		return Date, true
	case "choice":
		return Enum, true
	case "url":
		return URL, true
	case "secret":
		return Secret, true
	}
	return 0, false
}

// CustomFieldName is the stored name of custom field id: never one of the built-in names, stable when the
// label changes.
func CustomFieldName(id int64) string { return "cf_" + strconv.FormatInt(id, 10) }

// IsCustomFieldName reports whether name has the form of a custom field's name.
func IsCustomFieldName(name string) bool {
	n, err := strconv.ParseInt(strings.TrimPrefix(name, "cf_"), 10, 64)
	return strings.HasPrefix(name, "cf_") && err == nil && n > 0
}

// CustomLabelOK checks an administrator's label (or choice option): one line of at most 60 characters.
// isKey reports whether a text is a translation key; such a label is refused, as it would be translated.
func CustomLabelOK(label string, isKey func(string) bool) string {
	if label == "" {
		return "docs.err.required"
	}
	if !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) {
		return "docs.err.control"
	}
	if utf8.RuneCountInString(label) > 60 {
		return "docs.err.too_long"
	}
	if isKey != nil && isKey(label) {
		return "fields.err.label_reserved"
	}
	return ""
}

// ParseOptions splits a choice list typed one option per line, dropping blanks and repeats.
func ParseOptions(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// WithCustom returns a copy of the area with extra fields placed before its notes (the notes stay last
// on forms and pages). The built-in area is not changed: it is shared by every request.
func (a *Area) WithCustom(extra []Field) *Area {
	if len(extra) == 0 {
		return a
	}
	c := &Area{Name: a.Name, Fields: make([]Field, 0, len(a.Fields)+len(extra))}
	at := len(a.Fields)
	if i := slices.IndexFunc(a.Fields, func(f Field) bool { return f.Name == "notes" }); i >= 0 {
		at = i
	}
	c.Fields = append(c.Fields, a.Fields[:at]...)
	c.Fields = append(c.Fields, extra...)
	c.Fields = append(c.Fields, a.Fields[at:]...)
	return c
}

// Builtin returns the area's definition without custom fields (for identity checks: docs.Contacts ==).
func Builtin(name string) *Area {
	a, _ := ByName(name)
	return a
}
