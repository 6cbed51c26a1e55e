package views

import (
	"bytes"
	"context"
	"github.com/a-h/templ"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portier/i18n"
)

// The picker's results, an item's link history, and the bulk bar with its row boxes, in both languages.
func TestLinkFragmentsInBothLanguages(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name: "results",
			render: func(Shell) component {
				return PickResults(LinkPickerView{Query: "hot", Results: []PickResult{{ID: "7", Name: "Hotline", AreaKey: "docs.area.contacts", StaffOnly: true}, {ID: "8", Name: "Hotel-WLAN", AreaKey: "docs.area.wireless"}}})
			},
			want:   wants{"pick-results": tr("links.choose"), "pick-7": tr("docs.staff_only_badge"), "pick-8": tr("docs.area.wireless")},
			absent: []string{"pick-none"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, ok := d.Find(`[data-testid="pick-7"] input`).Attr("checked"); !ok {
					t.Errorf("%s: the first result is not chosen", lang)
				}
			},
		},
		{
			name:   "no match",
			render: func(Shell) component { return PickResults(LinkPickerView{Query: "xyz"}) },
			want:   wants{"pick-none": tr("links.no_match")},
		},
		{
			name:   "nothing typed",
			render: func(Shell) component { return PickResults(LinkPickerView{}) },
			want:   wants{"pick-results": tr("links.type_to_search")},
			absent: []string{"pick-none"},
		},
		{
			name: "link history",
			render: func(Shell) component {
				return LinkHistory([]LinkEvent{{ChangeKey: "links.change.link", Other: "Hotline", Label: "Provider", At: "1.2.2026", By: "Toni"}})
			},
			want: wants{"link-history": tr("links.change.link", "name", "Hotline")},
		},
		{
			name:   "no link history",
			render: func(Shell) component { return LinkHistory(nil) },
			absent: []string{"link-history"},
		},
		{
			name: "bulk bar and a row box",
			render: func(Shell) component {
				return join(BulkActions(BulkBar{Action: "/o/alpha/docs/contacts/bulk"}), BulkCheck("7", "Anna"))
			},
			want: wants{"bulk-form": tr("bulk.with_selected"), "bulk-action": tr("bulk.delete"), "bulk-submit": tr("bulk.apply"), "select-7": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="select-7"]`).AttrOr("form", "") != d.Find(`[data-testid="bulk-form"]`).AttrOr("id", "x") {
					t.Errorf("%s: the row box does not belong to the bulk form", lang)
				}
			},
		},
	})
}

// Related entries, files and the link picker in both languages: every text translated (no key shows),
// a customer's view (no actions) has no form, and a staff view offers linking, upload and removal.
func TestConnectionsInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	staff := Connections{AddHref: "/a", UploadAction: "/u", MaxMB: 25, ErrorKey: "files.err.too_large",
		Groups: []LinkGroup{{AreaKey: "docs.area.contacts", Links: []LinkRow{{ID: "7", Href: "/c/7", Name: "Hotline", Label: "Provider", StaffOnly: true, RemoveAction: "/r"}}}},
		Files:  []FileRow{{ID: "3", Name: "Vertrag.pdf", Href: "/f/3", ViewHref: "/f/3/view", ThumbHref: "/f/3/thumb", Size: "2 KB", TypeKey: "files.type.pdf", Meta: "Toni", StaffOnly: true, ToggleAction: "/t", DeleteAction: "/d"}}}
	customer := staff
	customer.AddHref, customer.UploadAction, customer.ErrorKey = "", "", ""
	customer.Groups = []LinkGroup{{AreaKey: "docs.area.contacts", Links: []LinkRow{{ID: "7", Href: "/c/7", Name: "Hotline"}}}}
	customer.Files = []FileRow{{ID: "3", Name: "Vertrag.pdf", Href: "/f/3", TypeKey: "files.type.pdf"}}
	key := regexp.MustCompile(`\b(links|files|bulk)\.[a-z_.]+`)
	for lang, heading := range map[string]string{"de": "Verknüpfte Einträge", "en": "Related entries"} {
		ctx := i18n.WithLocalizer(context.Background(), b.For(lang, ""))
		for name, v := range map[string]Connections{"staff": staff, "customer": customer} {
			var buf bytes.Buffer
			if err := DetailConnections(v).Render(templ.WithChildren(ctx, FilesError(v.ErrorKey, v.MaxMB)), &buf); err != nil {
				t.Fatal(err)
			}
			d, _ := goquery.NewDocumentFromReader(&buf)
			if got := d.Find("#related-h").Text(); got != heading {
				t.Errorf("%s %s: heading %q", lang, name, got)
			}
			if k := key.FindString(d.Text()); k != "" {
				t.Errorf("%s %s: untranslated %q", lang, name, k)
			}
			forms := d.Find("form").Length()
			if name == "customer" && (forms != 0 || d.Find(`[data-testid="link-add"]`).Length() != 0) {
				t.Errorf("%s: customer view has %d forms", lang, forms)
			}
			if name == "staff" && (d.Find(`[data-testid="upload-form"]`).Length() != 1 || d.Find(`[data-testid="unlink-7"]`).Length() != 1 ||
				!strings.Contains(d.Find(`[data-testid="files-error"]`).Text(), "25 MB")) {
				t.Errorf("%s: staff view lacks upload, unlink or the error", lang)
			}
		}
		var buf bytes.Buffer
		v := LinkPickerView{Heading: "H", SearchURL: "/s", Action: "/p", Query: "hot", Keep: []string{"4", "5"},
			Results: []PickResult{{ID: "7", Name: "Hotline", AreaKey: "docs.area.contacts"}}}
		if err := LinkPicker(shell(lang), v).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		d, _ := goquery.NewDocumentFromReader(&buf)
		if k := key.FindString(d.Text()); k != "" {
			t.Errorf("%s picker: untranslated %q", lang, k)
		}
		// Without JavaScript the search is a GET form and the choice a POST form, both carrying the bulk ids.
		if d.Find(`form[method=get] input[name=id]`).Length() != 2 || d.Find(`form[method=post] input[name=id]`).Length() != 2 ||
			d.Find(`form[method=post] input[type=radio][name=other][value="7"]`).Length() != 1 {
			t.Errorf("%s picker forms", lang)
		}
	}
}
