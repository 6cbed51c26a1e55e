package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The page shell: the menu only for someone who finished the first sign-in, the staff link only for staff,
// sign-out for anyone signed in, the logo, the chosen theme and the current language marked.
func TestLayoutInBothLanguages(t *testing.T) {
	child := templ.Raw(`<p data-testid="child">Inhalt</p>`)
	checkPages(t, []pageCase{
		{
			name: "staff member in an organisation, dark theme, with a logo",
			render: func(s Shell) templ.Component {
				s.Theme = "dark"
				s.MSP.LogoURL = "/logo-1.png"
				s.User = &ShellUser{Name: "Toni", IsStaff: true, OrgName: "Alpha GmbH", OrgSlug: "alpha", MultiOrg: true, Complete: true}
				return in(s, child)
			},
			want: wants{"child": lit("Inhalt"), "brand": lit("Muster IT"), "brand-logo": exists, "nav-org": lit("Alpha GmbH"), "nav-orgs": tr("nav.switch_org"),
				"nav-staff": tr("nav.staff"), "nav-profile": tr("nav.profile"), "nav-security": tr("nav.security"), "logout": tr("nav.logout"),
				"support-email": lit("hilfe@muster-it.example"), "support-phone": lit("+49 (30) 123"), "theme-switch": tr("layout.theme")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("html").AttrOr("data-theme", "") != "dark" || d.Find(`[data-testid="theme-switch"] option[selected]`).AttrOr("value", "x") != "dark" {
					t.Errorf("%s: theme not applied", lang)
				}
				if d.Find(`[data-testid="nav-org"]`).AttrOr("href", "") != "/o/alpha" {
					t.Errorf("%s: organisation link", lang)
				}
				other := map[string]string{"de": "en", "en": "de"}[lang]
				if d.Find(`[data-testid="lang-`+lang+`"]`).AttrOr("aria-pressed", "") != "true" || d.Find(`[data-testid="lang-`+other+`"]`).AttrOr("aria-pressed", "") != "false" {
					t.Errorf("%s: current language not marked", lang)
				}
				if d.Find(`meta[name="htmx-config"]`).AttrOr("content", "") != HTMXConfig {
					t.Errorf("%s: htmx configuration missing", lang)
				}
			},
		},
		{
			name: "customer in the first sign-in",
			render: func(s Shell) templ.Component {
				s.User = &ShellUser{Name: "Kim", OrgSlug: "alpha", OrgName: "Alpha GmbH"}
				return in(s, child)
			},
			want:   wants{"logout": exists, "child": exists},
			absent: []string{"nav-org", "nav-orgs", "nav-staff", "nav-profile", "nav-security", "brand-logo"},
		},
		{
			name: "customer with one organisation",
			render: func(s Shell) templ.Component {
				s.User = &ShellUser{Name: "Kim", OrgSlug: "alpha", OrgName: "Alpha GmbH", Complete: true}
				return in(s, child)
			},
			want:   wants{"nav-org": exists, "nav-profile": exists},
			absent: []string{"nav-orgs", "nav-staff"},
		},
		{
			name:   "nobody signed in, system theme",
			render: func(s Shell) templ.Component { return in(s, child) },
			want:   wants{"lang-switch": exists, "lang-de": tr("lang.de"), "lang-en": tr("lang.en")},
			absent: []string{"logout", "nav-profile"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, ok := d.Find("html").Attr("data-theme"); ok {
					t.Errorf("%s: a theme without a choice", lang)
				}
				if d.Find(`[data-testid="theme-switch"] option[selected]`).AttrOr("value", "x") != "" {
					t.Errorf("%s: system theme not selected", lang)
				}
			},
		},
	})
}
