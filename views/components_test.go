package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// An input with a problem is marked invalid and points at its message; one with a hint points at the hint;
// an alert is announced (errors interrupt, the rest waits) and an empty key shows nothing.
func TestComponentsInBothLanguagesRender(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name: "input with a problem",
			render: func(Shell) templ.Component {
				return Input(Field{ID: "mail", Name: "email", Type: "email", Label: "field.email", Value: "x", ErrorKey: "docs.err.email", Hint: "mspsetup.email_hint",
					MaxLength: 254, Required: true, Extra: templ.Attributes{"data-testid": "mail-input"}})
			},
			want: wants{"mail-error": tr("docs.err.email"), "mail-input": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				in := d.Find(`[data-testid="mail-input"]`)
				if in.AttrOr("aria-invalid", "") != "true" || in.AttrOr("aria-describedby", "") != "mail-error" || in.AttrOr("maxlength", "") != "254" || in.AttrOr("value", "") != "x" {
					t.Errorf("%s: invalid input %v", lang, in.Nodes[0].Attr)
				}
				if _, ok := in.Attr("required"); !ok {
					t.Errorf("%s: required lost", lang)
				}
				// The message replaces the hint.
				if d.Find("#mail-hint").Length() != 0 {
					t.Errorf("%s: hint beside the error", lang)
				}
			},
		},
		{
			name: "input with a hint",
			render: func(Shell) templ.Component {
				return Input(Field{ID: "mail", Name: "email", Type: "email", Label: "field.email", Hint: "mspsetup.email_hint", Extra: templ.Attributes{"data-testid": "mail-input"}})
			},
			want:   wants{"mail-input": exists},
			absent: []string{"mail-error"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				in := d.Find(`[data-testid="mail-input"]`)
				if _, bad := in.Attr("aria-invalid"); bad || in.AttrOr("aria-describedby", "") != "mail-hint" || d.Find("#mail-hint").Length() != 1 {
					t.Errorf("%s: hint not tied to the input", lang)
				}
				if d.Find(`label[for="mail"] #mail`).Length() != 1 {
					t.Errorf("%s: input outside its label", lang)
				}
			},
		},
		{
			name: "alerts",
			render: func(Shell) templ.Component {
				return templ.Join(Alert("error", "login.failed"), Alert("success", "docs.deleted", "name", "NAS"), Alert("info", ""))
			},
			want:   wants{"alert-error": tr("login.failed"), "alert-success": tr("docs.deleted", "name", "NAS")},
			absent: []string{"alert-info"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="alert-error"]`).AttrOr("role", "") != "alert" || d.Find(`[data-testid="alert-success"]`).AttrOr("role", "") != "status" {
					t.Errorf("%s: alert roles", lang)
				}
			},
		},
	})
}
