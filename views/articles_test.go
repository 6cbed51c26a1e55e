package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/i18n"
)

// The documents list, form, history and comparison, and the staff's templates, in both languages.
func TestArticlePagesInBothLanguages(t *testing.T) {
	nav := DocsNav{OrgName: "Alpha GmbH", Extra: []AreaLink{{Name: "documents", TitleKey: "articles.title", Href: "/o/alpha/articles", Current: true}}}
	checkPages(t, []pageCase{
		{
			name: "list by folder, staff with templates",
			render: func(s Shell) component {
				return ArticleList(s, ArticleListView{Nav: nav, NewHref: "/o/alpha/articles/new", CopyAction: "/o/alpha/articles/copy",
					Templates: []FilterOption{{Value: "3", LabelKey: "Onboarding"}}, FlashKey: "docs.deleted", FlashArgs: []any{"name", "Alt"},
					Folders: []ArticleFolder{{Articles: []ArticleRow{{Title: "Lose", Href: "/a/1"}}},
						{Name: "Notfall", Articles: []ArticleRow{{Title: "Internet weg", Href: "/a/2", Emergency: true, StaffOnly: true, Updated: "1.2.2026"}}}}})
			},
			want: wants{"article-list": tr("articles.no_folder"), "area-documents": tr("articles.title"), "article-new": tr("articles.new"),
				"flash": tr("docs.deleted", "name", "Alt"), "emergency-badge": tr("articles.emergency_badge"), "staff-only": tr("docs.staff_only_badge"),
				"template-copy": lit("Onboarding"), "template-copy-submit": tr("articles.copy_submit")},
			absent: []string{"articles-empty"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="article-folder"]`).Length() != 2 || d.Find(`[data-testid="article-link"]`).Last().AttrOr("href", "") != "/a/2" {
					t.Errorf("%s: folders or links", lang)
				}
			},
		},
		{
			name:   "empty list for a customer",
			render: func(s Shell) component { return ArticleList(s, ArticleListView{Nav: nav}) },
			want:   wants{"articles-empty": tr("articles.empty")},
			absent: []string{"article-new", "template-copy", "flash", "article-folder"},
		},
		{
			name: "document form with problems and a preview",
			render: func(s Shell) component {
				return ArticleForm(s, ArticleFormView{Nav: &nav, Heading: "Neues Dokument", Action: "/o/alpha/articles/new", CancelHref: "/o/alpha/articles",
					Title: "", Body: "# Titel", Version: 4, StaffOnly: true, Folders: []string{"Notfall", "Netz"}, ErrorKey: "docs.fix_errors",
					Errors: map[string]string{"title": "docs.err.required"}, MaxBody: 100000, HasPreview: true, PreviewHTML: "<h1>Titel</h1>"})
			},
			want: wants{"article-form": lit("Neues Dokument"), "alert-error": tr("docs.fix_errors"), "staff-only-check": exists, "emergency-check": exists,
				"article-save": tr("docs.save"), "article-preview": tr("articles.preview"), "article-preview-body": lit("Titel")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#a-title").AttrOr("aria-invalid", "") != "true" || d.Find(`input[name=version]`).AttrOr("value", "") != "4" || d.Find("#a-folders option").Length() != 2 {
					t.Errorf("%s: invalid title, version or folders", lang)
				}
				if _, ok := d.Find(`[data-testid="staff-only-check"]`).Attr("checked"); !ok {
					t.Errorf("%s: staff-only lost", lang)
				}
			},
		},
		{
			name: "template form in the staff area",
			render: func(s Shell) component {
				return ArticleForm(s, ArticleFormView{StaffNav: StaffNav{Current: "templates"}, Heading: "Vorlage", Action: "/staff/templates/new", CancelHref: "/staff/templates", MaxBody: 100})
			},
			want:   wants{"staff-menu-templates": tr("templates.title"), "article-save": exists},
			absent: []string{"staff-only-check", "docs-menu", "article-preview-body", "alert-error"},
		},
		{
			name: "history",
			render: func(s Shell) component {
				return ArticleHistory(s, ArticleHistoryView{Nav: nav, Title: "Router", BackHref: "/a/2", Revisions: []ArticleRevisionRow{
					{Version: 2, At: "2.2.2026", By: "Toni", Title: "Router", DiffHref: "/a/2/diff?from=1&to=2"}, {Version: 1, At: "1.2.2026", By: "Toni", Title: "Router"}}})
			},
			want:   wants{"article-history-page": tr("docs.history_of", "name", "Router"), "revision-2": tr("articles.revision", "version", "2"), "diff-2": tr("articles.diff_prev")},
			absent: []string{"diff-1"},
		},
		{
			name: "comparison",
			render: func(s Shell) component {
				return ArticleDiff(s, ArticleDiffView{Nav: nav, Title: "Router", BackHref: "/a/2", From: 1, To: 2,
					Changes: []HistoryChange{{LabelKey: "articles.field.folder", Old: "Netz", New: "Notfall"}},
					Lines:   []DiffRow{{Op: "same", Text: "Schritt 1"}, {Op: "del", Text: "<alt>"}, {Op: "add", Text: "neu"}}})
			},
			want: wants{"article-diff": tr("articles.diff_heading", "name", "Router", "from", "1", "to", "2"), "diff-lines": lit("- <alt>")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="diff-lines"] del`).Text() != "- <alt>\n" || d.Find(`[data-testid="diff-lines"] ins`).Text() != "+ neu\n" {
					t.Errorf("%s: diff lines", lang)
				}
			},
		},
		{
			name: "templates",
			render: func(s Shell) component {
				return Templates(s, TemplatesView{Nav: StaffNav{Current: "templates"}, NewHref: "/staff/templates/new", FlashKey: "templates.saved",
					Rows: []ArticleRow{{Title: "Onboarding", Href: "/staff/templates/3", Emergency: true}}})
			},
			want:   wants{"templates": tr("templates.hint"), "alert-success": tr("templates.saved"), "template-new": tr("templates.new"), "template-link": lit("Onboarding")},
			absent: []string{"templates-empty"},
		},
		{
			name:   "no templates",
			render: func(s Shell) component { return Templates(s, TemplatesView{NewHref: "/staff/templates/new"}) },
			want:   wants{"templates-empty": tr("templates.empty")},
		},
	})
}

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
