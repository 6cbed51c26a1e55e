package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"portier/i18n"
)

// The documentation menu and the copy button in both languages.
func TestDocsMenuAndCopyInBothLanguages(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name: "menu",
			render: func(Shell) component {
				n := testNav("passwords")
				n.Extra = []AreaLink{{Name: "expiry", TitleKey: "expiry.title", Href: "/o/alpha/expiry"}}
				n.Search = "nas"
				return DocsMenu(n)
			},
			want:   wants{"docs-menu": tr("docs.search.submit"), "area-passwords": tr("docs.area.passwords"), "count-passwords": lit("12"), "area-expiry": tr("expiry.title")},
			absent: []string{"count-expiry"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[aria-current="page"]`).AttrOr("data-testid", "") != "area-passwords" || d.Find("#docs-q").AttrOr("value", "") != "nas" {
					t.Errorf("%s: current area or search", lang)
				}
			},
		},
		{
			name: "copy buttons: a secret in a list, a text",
			render: func(Shell) component {
				return templ.Join(Copy(CopyButton{ID: "password-7", LabelKey: "docs.passwords.password", ItemName: "NAS", URL: "/c", ConfirmURL: "/cc"}),
					Copy(CopyButton{ID: "ip", LabelKey: "docs.configurations.ip", Text: "192.0.2.1"}))
			},
			want: wants{"copy-password-7": tr("docs.copy"), "copy-status-password-7": exists, "copy-ip": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				secret := d.Find(`[data-testid="copy-password-7"]`)
				if _, hidden := secret.Attr("hidden"); !hidden || secret.AttrOr("data-copy-url", "") != "/c" || secret.AttrOr("data-copy-text", "none") != "none" {
					t.Errorf("%s: a secret's copy button", lang)
				}
				if d.Find(`[data-testid="copy-ip"]`).AttrOr("data-copy-text", "") != "192.0.2.1" || d.Find(`[data-testid="copy-status-ip"]`).AttrOr("role", "") != "status" {
					t.Errorf("%s: a text's copy button", lang)
				}
			},
		},
	})
}

// page is one rendering of a documentation page: what must be there (data-testid → text it contains, ""
// for presence only), what must not, and what must hold besides.
type page struct {
	name    string
	render  func(Shell) templ.Component
	want    map[string]func(l *i18n.Localizer) string
	absent  []string
	further func(t *testing.T, lang string, l *i18n.Localizer, d *goquery.Document)
}

func text(key string, args ...any) func(*i18n.Localizer) string {
	return func(l *i18n.Localizer) string { return l.T(key, args...) }
}

// textN is a text with a count, in the language's plural form.
func textN(key string, n int) func(*i18n.Localizer) string {
	return func(l *i18n.Localizer) string { return l.N(key, n) }
}

func present(*i18n.Localizer) string { return "" }

func testNav(current string) DocsNav {
	return DocsNav{OrgName: "Alpha GmbH", SearchHref: "/o/alpha/search", Areas: []AreaLink{
		{Name: "configurations", TitleKey: "docs.area.configurations", Href: "/o/alpha/docs/configurations", Count: 3, Current: current == "configurations"},
		{Name: "passwords", TitleKey: "docs.area.passwords", Href: "/o/alpha/docs/passwords", Count: 12, Current: current == "passwords"},
	}}
}

// Every documentation page renders in German and English with its parts findable by data-testid and its
// words from the language's file (never a bare key).
func TestDocsPagesInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	pages := []page{
		{
			name: "list (staff, with a deletion to undo)",
			render: func(s Shell) templ.Component {
				return DocList(s, DocListView{Nav: testNav("passwords"), Area: "passwords", TitleKey: "docs.area.passwords",
					ListHref: "/o/alpha/docs/passwords", NewHref: "/o/alpha/docs/passwords/new", ExportHref: "/o/alpha/export/passwords",
					ImportHref: "/o/alpha/import/passwords", Total: 2, Page: 1, Pages: 1, CopyKey: "docs.passwords.password",
					Columns: []Column{{LabelKey: "docs.passwords.name", SortHref: "?sort=name&desc=1", Sorted: "ascending"}, {LabelKey: "docs.passwords.url"}},
					Rows: []Row{
						{ID: "7", Href: "/o/alpha/docs/passwords/7", Cells: []Cell{{Text: "NAS admin"}, {Text: "https://nas.example", Href: "https://nas.example"}},
							Copy: &CopyButton{ID: "password-7", LabelKey: "docs.passwords.password", ItemName: "NAS admin", URL: "/c", ConfirmURL: "/cc"}},
						{ID: "8", Href: "/o/alpha/docs/passwords/8", Cells: []Cell{{Text: "Domain admin"}, {}}, StaffOnly: true},
					},
					FlashKey: "docs.deleted", FlashArgs: []any{"name", "Alt"}, UndoHref: "/o/alpha/docs/passwords/9/restore"})
			},
			want: map[string]func(*i18n.Localizer) string{
				"doc-list": text("docs.area.passwords"), "docs-menu": text("docs.area.configurations"), "count-passwords": func(*i18n.Localizer) string { return "12" },
				"doc-total": textN("docs.total", 2), "row-7": func(*i18n.Localizer) string { return "NAS admin" }, "staff-only": text("docs.staff_only_badge"),
				"copy-password-7": present, "doc-new": text("docs.new_heading.passwords"), "export-csv": text("docs.export_csv"), "import-csv": text("docs.import_csv"),
				"flash": text("docs.deleted", "name", "Alt"), "undo": text("docs.undo"),
			},
			absent: []string{"doc-empty"},
			further: func(t *testing.T, lang string, _ *i18n.Localizer, d *goquery.Document) {
				if d.Find(`[data-testid="area-passwords"]`).AttrOr("aria-current", "") != "page" {
					t.Errorf("%s: the current area is not marked", lang)
				}
				if d.Find(`[data-testid="row-8"] [data-testid="copy-password-8"]`).Length() != 0 {
					t.Errorf("%s: a copy button for an item without a secret", lang)
				}
			},
		},
		{
			name: "list (customer, empty)",
			render: func(s Shell) templ.Component {
				return DocList(s, DocListView{Nav: testNav("configurations"), Area: "configurations", TitleKey: "docs.area.configurations",
					ListHref: "/o/alpha/docs/configurations", ExportHref: "/o/alpha/export/configurations", Page: 1})
			},
			want:   map[string]func(*i18n.Localizer) string{"doc-empty": text("docs.empty"), "doc-total": textN("docs.total", 0), "export-csv": present},
			absent: []string{"doc-new", "import-csv", "flash", "row-link"},
		},
		{
			name: "detail",
			render: func(s Shell) templ.Component {
				return DocDetail(s, DocDetailView{Nav: testNav("passwords"), Area: "passwords", TitleKey: "docs.area.passwords", Name: "M365",
					StaffOnly: true, UpdatedBy: "Toni", UpdatedAt: "1.2.2026", ListHref: "/o/alpha/docs/passwords",
					EditHref: "/e", DeleteHref: "/d", HistoryHref: "/h", QRURL: "/qr", QRLabelKey: "docs.qr.wifi",
					Fields: []DetailField{
						{Name: "username", LabelKey: "docs.passwords.username", Text: "admin@alpha.example"},
						{Name: "password", LabelKey: "docs.passwords.password", Secret: true, HasValue: true, RevealURL: "/r",
							Copy: &CopyButton{ID: "password", LabelKey: "docs.passwords.password", URL: "/c", ConfirmURL: "/cc"}},
						{Name: "totp", LabelKey: "docs.passwords.totp", Secret: true, HasValue: true, TOTP: true, RevealURL: "/r2"},
						{Name: "notes", LabelKey: "docs.passwords.notes"},
					}})
			},
			want: map[string]func(*i18n.Localizer) string{
				"doc-detail": text("docs.updated", "name", "Toni", "date", "1.2.2026"), "doc-name": func(*i18n.Localizer) string { return "M365" },
				"staff-only": text("docs.staff_only_badge"), "field-username": func(*i18n.Localizer) string { return "admin@alpha.example" },
				"reveal-password": text("docs.show"), "reveal-totp": text("docs.show_code"), "copy-password": present,
				"doc-edit": text("docs.edit"), "doc-delete": text("docs.delete"), "doc-history": text("docs.history"), "show-qr": text("docs.qr.wifi"),
			},
			further: func(t *testing.T, lang string, _ *i18n.Localizer, d *goquery.Document) {
				if d.Find(`[data-testid="doc-detail"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: a page with secrets may enter htmx's history", lang)
				}
			},
		},
		{
			name: "detail (customer viewer)",
			render: func(s Shell) templ.Component {
				return DocDetail(s, DocDetailView{Nav: testNav("configurations"), Area: "configurations", TitleKey: "docs.area.configurations",
					Name: "FW-01", UpdatedBy: "—", ListHref: "/l", Fields: []DetailField{{Name: "warranty_end", LabelKey: "docs.configurations.warranty_end",
						Text: "1.1.2026", Highlight: "docs.warranty_over"}}})
			},
			want:   map[string]func(*i18n.Localizer) string{"doc-name": func(*i18n.Localizer) string { return "FW-01" }, "highlight": func(*i18n.Localizer) string { return "1.1.2026" }},
			absent: []string{"doc-edit", "doc-delete", "doc-history", "show-qr", "staff-only"},
		},
		{
			name: "secret page",
			render: func(s Shell) templ.Component {
				return SecretPage(s, SecretView{Field: "password", Value: "geheim-123", HideAfter: 30, BackHref: "/b"})
			},
			want: map[string]func(*i18n.Localizer) string{"secret-page": textN("docs.hidden_after", 30), "secret-value-password": func(*i18n.Localizer) string { return "geheim-123" }},
			further: func(t *testing.T, lang string, _ *i18n.Localizer, d *goquery.Document) {
				if d.Find(`[data-testid="secret-page"]`).AttrOr("hx-history", "") != "false" || d.Find(`[data-testid="secret-value-password"]`).AttrOr("data-hide-after", "") != "30" {
					t.Errorf("%s: the secret is not kept out of history or not hidden again", lang)
				}
			},
		},
		{
			name: "one-time code fragment",
			render: func(s Shell) templ.Component {
				return SecretFragment(SecretView{Field: "totp", Value: "123 456", TOTP: true, Remaining: 17, HideAfter: 17})
			},
			want: map[string]func(*i18n.Localizer) string{"secret-value-totp": func(*i18n.Localizer) string { return "123 456" }, "totp-remaining": textN("docs.totp_remaining", 17)},
		},
		{
			name: "form (staff, with problems)",
			render: func(s Shell) templ.Component {
				return DocForm(s, DocFormView{Nav: testNav("passwords"), Area: "passwords", TitleKey: "docs.area.passwords", CanStaffOnly: true,
					StaffOnly: true, ErrorKey: "docs.fix_errors", Action: "/a", CancelHref: "/c", Heading: "Neu", Fields: []FormField{
						{Name: "name", LabelKey: "docs.passwords.name", Type: "text", Required: true, ErrorKey: "docs.err.required", MaxLength: 200},
						{Name: "password", LabelKey: "docs.passwords.password", Type: "secret", Generate: true, HasValue: true, MaxLength: 1000},
					}})
			},
			want: map[string]func(*i18n.Localizer) string{"doc-form": text("docs.fix_errors"), "error-name": text("docs.err.required"),
				"generate-password": present, "staff-only-check": present, "doc-save": text("docs.save")},
			further: func(t *testing.T, lang string, _ *i18n.Localizer, d *goquery.Document) {
				d.Find(`[data-testid="doc-form"] input:not([type=hidden]):not([type=checkbox])`).Each(func(_ int, s *goquery.Selection) {
					id := s.AttrOr("id", "")
					if id == "" || d.Find(`label[for="`+id+`"]`).Length() != 1 {
						t.Errorf("%s: input %q has no label", lang, s.AttrOr("name", ""))
					}
				})
				if v := d.Find(`input[name=password]`).AttrOr("value", ""); v != "" {
					t.Errorf("%s: a secret input carries a value", lang)
				}
			},
		},
		{
			name: "form fragment (customer manager)",
			render: func(s Shell) templ.Component {
				return DocFormFragment(DocFormView{Area: "contacts", TitleKey: "docs.area.contacts", Action: "/a", CancelHref: "/c", Heading: "Neu",
					Fields: []FormField{{Name: "name", LabelKey: "docs.contacts.name", Type: "text", Required: true, MaxLength: 200}}})
			},
			want:   map[string]func(*i18n.Localizer) string{"doc-form": present, "doc-save": text("docs.save")},
			absent: []string{"staff-only-check", "error-name"},
		},
		{
			name: "history",
			render: func(s Shell) templ.Component {
				return DocHistory(s, DocHistoryView{Nav: testNav("passwords"), Name: "NAS", BackHref: "/b", Entries: []HistoryEntry{
					{Version: 2, ChangeKey: "docs.change.update", At: "2.2.2026", By: "Toni", Changes: []HistoryChange{{LabelKey: "docs.passwords.username", Old: "root", New: "admin"}},
						Secrets: []HistorySecret{{Field: "password", LabelKey: "docs.passwords.password", RevealURL: "/v"}}},
					{Version: 1, ChangeKey: "docs.change.create", At: "1.2.2026", By: "Toni"},
				}})
			},
			want: map[string]func(*i18n.Localizer) string{"doc-history-page": text("docs.history_of", "name", "NAS"),
				"version-2": text("docs.change.update"), "version-1": text("docs.change.create"), "vreveal-2-password": text("docs.history.show_after")},
			further: func(t *testing.T, lang string, _ *i18n.Localizer, d *goquery.Document) {
				if got := d.Find(`[data-testid="version-2"] del`).Text() + d.Find(`[data-testid="version-2"] ins`).Text(); got != "rootadmin" {
					t.Errorf("%s: change shown as %q", lang, got)
				}
			},
		},
		{
			name: "search with results",
			render: func(s Shell) templ.Component {
				nav := testNav("")
				return Search(s, SearchView{Nav: &nav, Query: "nas", Action: "/o/alpha/search",
					Results: []SearchResult{{Href: "/o/alpha/docs/passwords/7", Name: "NAS admin", AreaKey: "docs.area.passwords"}}})
			},
			want:   map[string]func(*i18n.Localizer) string{"search-page": text("docs.search.title"), "search-results": text("docs.area.passwords"), "docs-menu": present},
			absent: []string{"search-empty"},
		},
		{
			name: "staff search without results",
			render: func(s Shell) templ.Component {
				return Search(s, SearchView{Query: "nichts", Action: "/staff/search", ShowOrg: true})
			},
			want:   map[string]func(*i18n.Localizer) string{"search-page": present, "search-empty": text("docs.search.none")},
			absent: []string{"search-results", "docs-menu"},
		},
		{
			name: "import refused",
			render: func(s Shell) templ.Component {
				return Import(s, ImportView{Nav: testNav("configurations"), TitleKey: "docs.area.configurations", Action: "/i", BackHref: "/b",
					Columns:  []ImportColumn{{Name: "name", LabelKey: "docs.configurations.name", Required: true}},
					ErrorKey: "docs.import.refused", Problems: []ImportProblem{{Line: 3, Column: "IP", Key: "docs.err.ip"}}})
			},
			want: map[string]func(*i18n.Localizer) string{"import-page": text("docs.import.refused"), "import-problems": text("docs.err.ip"),
				"import-submit": text("docs.import.submit")},
		},
		{
			name: "handbook without secrets",
			render: func(s Shell) templ.Component {
				return Handbook(s, HandbookView{OrgName: "Alpha GmbH", Generated: "1.2.2026", Action: "/o/alpha/handbook",
					Sections: []HandbookSection{{Name: "passwords", TitleKey: "docs.area.passwords", Items: []HandbookItem{{Name: "NAS admin"}}}}})
			},
			want: map[string]func(*i18n.Localizer) string{"handbook": text("docs.handbook.heading", "org", "Alpha GmbH"),
				"handbook-secrets": text("docs.handbook.with_secrets")},
		},
		{
			name: "handbook with secrets",
			render: func(s Shell) templ.Component {
				return Handbook(s, HandbookView{OrgName: "Alpha GmbH", Generated: "1.2.2026", WithSecrets: true, Action: "/o/alpha/handbook"})
			},
			want:   map[string]func(*i18n.Localizer) string{"handbook": text("docs.handbook.secrets_warning")},
			absent: []string{"handbook-secrets"},
		},
	}
	for _, p := range pages {
		for _, lang := range []string{"de", "en"} {
			l := b.For(lang, "")
			ctx := i18n.WithLocalizer(context.Background(), l)
			var buf bytes.Buffer
			if err := p.render(shell(lang)).Render(ctx, &buf); err != nil {
				t.Fatalf("%s (%s): %v", p.name, lang, err)
			}
			d, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if html := d.Find("html"); bytes.Contains(buf.Bytes(), []byte("<html")) && html.AttrOr("lang", "") != lang {
				t.Errorf("%s (%s): html lang %q", p.name, lang, html.AttrOr("lang", ""))
			}
			for id, want := range p.want {
				s := d.Find(`[data-testid="` + id + `"]`)
				if s.Length() == 0 {
					t.Errorf("%s (%s): no %s", p.name, lang, id)
					continue
				}
				w := want(l)
				if strings.HasPrefix(w, "docs.") {
					t.Errorf("%s (%s): %s: text %q is missing from the language file", p.name, lang, id, w)
				}
				if got := strings.Join(strings.Fields(s.Text()), " "); !strings.Contains(got, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("%s (%s): %s says %q, want it to contain %q", p.name, lang, id, got, w)
				}
			}
			for _, id := range p.absent {
				if d.Find(`[data-testid="`+id+`"]`).Length() != 0 {
					t.Errorf("%s (%s): %s shown", p.name, lang, id)
				}
			}
			if p.further != nil {
				p.further(t, lang, l, d)
			}
		}
	}
}
