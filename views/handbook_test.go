package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The emergency handbook: the running head on every sheet, emergency procedures first, sections with
// their items and an empty one saying so, secrets set apart and printed only on request.
func TestHandbookInBothLanguages(t *testing.T) {
	sections := []HandbookSection{
		{Name: "passwords", TitleKey: "docs.area.passwords", Items: []HandbookItem{{Name: "NAS admin", Fields: []HandbookField{
			{LabelKey: "docs.passwords.username", Text: "admin"}, {LabelKey: "docs.passwords.password", Text: "geheim-1", Secret: true},
			{LabelKey: "docs.passwords.notes", Text: "Zeile 1\nZeile 2", Pre: true}}}}},
		{Name: "contacts", TitleKey: "docs.area.contacts"},
	}
	checkPages(t, []pageCase{
		{
			name: "with secrets and a procedure",
			render: func(s Shell) templ.Component {
				return Handbook(s, HandbookView{OrgName: "Alpha GmbH", Generated: "29.11.2026", WithSecrets: true, Action: "/o/alpha/handbook",
					CSS: "/hb.css", JS: "/hb.js", Sections: sections, Procedures: []HandbookProcedure{{Title: "Internet weg", HTML: "<ol><li>Router</li></ol>"}}})
			},
			want: wants{"handbook": tr("docs.handbook.secrets_warning"), "handbook-running": tr("docs.handbook.generated", "date", "29.11.2026"),
				"handbook-procedures": lit("Internet weg"), "handbook-passwords": lit("geheim-1"), "handbook-contacts": tr("docs.empty"), "handbook-print": tr("docs.handbook.print")},
			absent: []string{"handbook-secrets"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="handbook-passwords"] .hb-secret`).Text() != "geheim-1" || d.Find(`[data-testid="handbook-passwords"] pre`).Text() != "Zeile 1\nZeile 2" {
					t.Errorf("%s: secret not set apart or notes lose their lines", lang)
				}
				if d.Find(`[data-testid="handbook-procedures"] ol li`).Text() != "Router" {
					t.Errorf("%s: procedure body", lang)
				}
				// Procedures come before the areas.
				var order []string
				d.Find(`[data-testid="handbook-procedures"], [data-testid="handbook-passwords"]`).Each(func(_ int, s *goquery.Selection) { order = append(order, s.AttrOr("data-testid", "")) })
				if len(order) != 2 || order[0] != "handbook-procedures" {
					t.Errorf("%s: procedures not first: %v", lang, order)
				}
				if _, hidden := d.Find(`[data-testid="handbook-print"]`).Attr("hidden"); !hidden || d.Find(`[data-testid="handbook"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: print button without script or page in history", lang)
				}
			},
		},
		{
			name: "without secrets",
			render: func(s Shell) templ.Component {
				return Handbook(s, HandbookView{OrgName: "Alpha GmbH", Generated: "29.11.2026", Action: "/o/alpha/handbook", Sections: sections[1:]})
			},
			want:   wants{"handbook-secrets": tr("docs.handbook.with_secrets"), "handbook-running": tr("docs.handbook.heading", "org", "Alpha GmbH")},
			absent: []string{"handbook-procedures", "handbook-passwords"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/o/alpha/handbook"] input[name=secrets]`).AttrOr("value", "") != "1" {
					t.Errorf("%s: the secrets request", lang)
				}
			},
		},
	})
}
