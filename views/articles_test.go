package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/i18n"
)

// The document, expiry and custom-field pages in both languages: their words, the print button that only
// a script reveals, a staff-only badge, and inputs marked invalid only when they carry a message.
func TestDocumentPagesInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"de": {"Dokumente", "Notfall", "Drucken", "Was läuft bald ab", "Nächste 30 Tage", "Lizenz bis", "Eigene Felder"},
		"en": {"Documents", "Emergency", "Print", "What expires next", "Next 30 days", "Lizenz bis", "Custom fields"},
	} {
		ctx := i18n.WithLocalizer(context.Background(), b.For(lang, ""))
		var buf bytes.Buffer
		nav := DocsNav{OrgName: "Alpha", Extra: []AreaLink{{Name: "documents", TitleKey: "articles.title", Href: "/o/a/articles", Current: true}}}
		if err := Article(shell(lang), ArticleView{Nav: nav, Title: "Internet weg", Folder: "Notfall", HTML: "<ol><li>Router</li></ol>",
			Emergency: true, StaffOnly: true, ListHref: "/o/a/articles"}).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		if err := Expiry(shell(lang), ExpiryView{Nav: &nav, Windows: []ExpiryLink{{LabelKey: "expiry.window.30", Href: "/x", Current: true}},
			Rows: []ExpiryRow{{Kind: "Lizenz bis", Name: "M365", Date: "1.1.2027", State: "soon"}}}).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		if err := CustomFields(shell(lang), CustomFieldsView{Form: CustomFieldForm{Action: "/staff/fields", Errors: map[string]string{"label": "docs.err.required"}}}).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		d, _ := goquery.NewDocumentFromReader(&buf)
		text := d.Text()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: pages lack %q", lang, w)
			}
		}
		if _, hidden := d.Find(`[data-testid="article-print"]`).Attr("hidden"); !hidden {
			t.Errorf("%s: print button shown without script", lang)
		}
		if d.Find(`[data-testid="article"] [data-testid="staff-only"]`).Length() != 1 || d.Find(`[data-testid="article-body"] ol li`).Text() != "Router" {
			t.Errorf("%s: article badge or body", lang)
		}
		if d.Find("#cf-label").AttrOr("aria-invalid", "") != "true" || d.Find("#cf-options").AttrOr("aria-invalid", "none") != "none" {
			t.Errorf("%s: aria-invalid on the field form", lang)
		}
	}
}
