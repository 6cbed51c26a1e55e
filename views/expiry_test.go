package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// What expires next: one organisation's view with its filters and rows, the staff view of all with the
// organisation column, the add form with its problems and the weekly digest.
func TestExpiryInBothLanguages(t *testing.T) {
	nav := DocsNav{OrgName: "Alpha GmbH", Extra: []AreaLink{{Name: "expiry", TitleKey: "expiry.title", Href: "/o/alpha/expiry", Current: true}}}
	windows := []ExpiryLink{{LabelKey: "expiry.window.30", Href: "?w=30", Current: true}, {LabelKey: "expiry.window.all", Href: "?w=all"}}
	sorts := []ExpiryLink{{LabelKey: "expiry.sort.date", Href: "?s=date", Current: true}, {LabelKey: "expiry.sort.name", Href: "?s=name"}}
	rows := []ExpiryRow{
		{Kind: "Lizenz", Name: "M365", Href: "/o/alpha/docs/licences/1", OrgName: "Alpha GmbH", Date: "01.12.2026", Left: "in 2 Tagen", State: "soon", StaffOnly: true, DeleteURL: "/x/1/delete"},
		{Kind: "Garantie", Name: "FW-01", OrgName: "Beta AG", Date: "01.03.2027", Left: "in 92 Tagen"},
	}
	checkPages(t, []pageCase{
		{
			name: "one organisation",
			render: func(s Shell) templ.Component {
				return Expiry(s, ExpiryView{Nav: &nav, Windows: windows, Sorts: sorts, Rows: rows, Actions: true, FlashKey: "expiry.deleted"})
			},
			want: wants{"expiry": tr("expiry.title"), "docs-menu": exists, "expiry-window-current": tr("expiry.window.30"), "alert-success": tr("expiry.deleted"),
				"expiry-table": tr("docs.staff_only_badge"), "expiry-delete": tr("docs.delete")},
			absent: []string{"expiry-empty", "staff-menu", "expiry-add", "expiry-digest"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				r := d.Find(`[data-testid="expiry-row"]`)
				if r.Length() != 2 || !r.Eq(0).HasClass("expiry-soon") || r.Eq(0).Find("mark").Text() != "01.12.2026" || r.Eq(1).Find("mark").Length() != 0 {
					t.Errorf("%s: the soon row is not marked", lang)
				}
				if r.Eq(1).Find(`[data-testid="expiry-delete"]`).Length() != 0 || r.Eq(1).Find("a").Length() != 0 {
					t.Errorf("%s: a row without a link or deletion offers one", lang)
				}
				if strings.Contains(d.Find(`[data-testid="expiry-table"]`).Text(), "Beta AG") {
					t.Errorf("%s: an organisation's own view shows the organisation column", lang)
				}
				if d.Find(`[data-testid="expiry"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: kept in htmx history", lang)
				}
			},
		},
		{
			name: "all organisations for staff, with add form and digest",
			render: func(s Shell) templ.Component {
				return Expiry(s, ExpiryView{StaffNav: StaffNav{Current: "expiry"}, ShowOrg: true, Windows: windows, Rows: rows,
					AddAction: "/staff/expiry", AddKinds: []FilterOption{{Value: "licence", LabelKey: "expiry.kind.licence"}, {Value: "domain", LabelKey: "expiry.kind.domain", Selected: true}},
					AddErrors: map[string]string{"name": "docs.err.required", "expires_on": "docs.err.date"},
					Digest:    &ExpiryDigestForm{Action: "/staff/expiry/digest", Recipients: "it@alpha.example", Lang: "en", ErrorKey: "expiry.digest.err_address", LastSent: "23.11.2026"}})
			},
			want: wants{"staff-menu-expiry": tr("expiry.title"), "expiry-table": lit("Beta AG"), "expiry-add": tr("expiry.kind.domain"),
				"x-name-error": tr("docs.err.required"), "x-date-error": tr("docs.err.date"), "expiry-add-submit": tr("expiry.add_submit"),
				"expiry-digest": tr("expiry.digest.last_sent", "date", "23.11.2026"), "alert-error": tr("expiry.digest.err_address"), "digest-save": tr("docs.save")},
			absent: []string{"docs-menu", "expiry-delete"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="expiry-table"] thead th`).Length() != 4 {
					t.Errorf("%s: %d columns, want date, kind, name, organisation", lang, d.Find(`[data-testid="expiry-table"] thead th`).Length())
				}
				if d.Find("#x-name").AttrOr("aria-invalid", "") != "true" || d.Find("#d-lang option[selected]").AttrOr("value", "") != "en" {
					t.Errorf("%s: add form or digest language", lang)
				}
			},
		},
		{
			name:   "nothing expires",
			render: func(s Shell) templ.Component { return Expiry(s, ExpiryView{Nav: &nav, Windows: windows}) },
			want:   wants{"expiry-empty": tr("expiry.empty")},
			absent: []string{"expiry-table", "expiry-row"},
		},
	})
}
