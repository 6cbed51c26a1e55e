package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The public start page and the error page and fragment in both languages.
func TestPagesInBothLanguages(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name:   "welcome",
			render: func(s Shell) templ.Component { return Welcome(s) },
			want:   wants{"welcome": tr("welcome.title", "msp", "Muster IT"), "welcome-login": tr("welcome.login")},
		},
		{
			name: "error page",
			render: func(s Shell) templ.Component {
				return ErrorPage(s, ErrorView{Status: 403, TitleKey: "error.403.title", TextKey: "error.403.text"})
			},
			want: wants{"error": tr("error.403.text"), "lang-switch": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="error"]`).AttrOr("data-status", "") != "403" || d.Find(`[data-testid="error"]`).AttrOr("role", "") != "alert" {
					t.Errorf("%s: the error is not announced with its status", lang)
				}
			},
		},
		{
			name: "error fragment for htmx",
			render: func(Shell) templ.Component {
				return ErrorFragment(ErrorView{Status: 409, TitleKey: "error.409.title", TextKey: "error.409.text"})
			},
			want:   wants{"error": tr("error.409.title")},
			absent: []string{"lang-switch", "brand"},
		},
	})
}
