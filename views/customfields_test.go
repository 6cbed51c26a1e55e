package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The administrators' custom fields: the list with its actions, the add form with its problems, and the
// edit form where area and kind are fixed.
func TestCustomFieldsInBothLanguages(t *testing.T) {
	areas := []FilterOption{{Value: "configurations", LabelKey: "docs.area.configurations"}, {Value: "passwords", LabelKey: "docs.area.passwords", Selected: true}}
	kinds := []FilterOption{{Value: "text", LabelKey: "fields.kind.text"}, {Value: "choice", LabelKey: "fields.kind.choice", Selected: true}}
	checkPages(t, []pageCase{
		{
			name: "list and a refused new field",
			render: func(s Shell) templ.Component {
				return CustomFields(s, CustomFieldsView{Nav: StaffNav{IsAdmin: true, Current: "fields"}, FlashKey: "fields.created",
					Rows: []CustomFieldRow{{ID: "4", AreaKey: "docs.area.configurations", Label: "Seriennummer", KindKey: "fields.kind.choice", Options: "A, B",
						InList: true, EditHref: "/staff/fields/4", Delete: "/staff/fields/4/delete"}},
					Form: CustomFieldForm{Action: "/staff/fields", Areas: areas, Kinds: kinds, Label: "Name", Options: "x",
						Errors: map[string]string{"label": "fields.err.label_reserved", "options": "fields.err.options"}, ErrorKey: "docs.fix_errors"}})
			},
			want: wants{"custom-fields": tr("fields.add"), "staff-menu-fields": tr("fields.title"), "alert-success": tr("fields.created"),
				"field-row-4": tr("fields.kind.choice"), "field-edit-4": tr("docs.edit"), "field-delete-4": tr("docs.delete"),
				"alert-error": tr("docs.fix_errors"), "cf-label-error": tr("fields.err.label_reserved"), "cf-options-error": tr("fields.err.options"),
				"field-save": tr("docs.save")},
			absent: []string{"fields-empty"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="field-row-4"]`).Text() == "" || d.Find(`[data-testid="field-row-4"] td`).Eq(3).Text() == "" || d.Find(`[data-testid="field-row-4"] td`).Eq(4).Text() != "" {
					t.Errorf("%s: in-list and expiry marks", lang)
				}
				if d.Find(`#cf-area option[selected]`).AttrOr("value", "") != "passwords" || d.Find(`#cf-kind option[selected]`).AttrOr("value", "") != "choice" {
					t.Errorf("%s: choices not kept", lang)
				}
				if d.Find("#cf-label").AttrOr("aria-invalid", "") != "true" || d.Find("#cf-options").AttrOr("aria-invalid", "") != "true" {
					t.Errorf("%s: invalid inputs not marked", lang)
				}
				if d.Find(`[data-testid="staff-menu-fields"]`).AttrOr("aria-current", "") != "page" {
					t.Errorf("%s: menu does not mark the page", lang)
				}
			},
		},
		{
			name: "no fields yet",
			render: func(s Shell) templ.Component {
				return CustomFields(s, CustomFieldsView{Nav: StaffNav{IsAdmin: true}, Form: CustomFieldForm{Action: "/staff/fields", Areas: areas, Kinds: kinds}})
			},
			want:   wants{"fields-empty": tr("fields.empty"), "field-form": exists},
			absent: []string{"fields-table", "alert-error", "alert-success", "cf-label-error"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, bad := d.Find("#cf-label").Attr("aria-invalid"); bad {
					t.Errorf("%s: a valid input marked invalid", lang)
				}
			},
		},
		{
			name: "edit an existing field",
			render: func(s Shell) templ.Component {
				return CustomFieldEdit(s, CustomFieldEditView{Nav: StaffNav{IsAdmin: true, Current: "fields"},
					Form: CustomFieldForm{Action: "/staff/fields/4", Existing: true, Label: "Seriennummer", Expiry: true, CancelHref: "/staff/fields"}})
			},
			want: wants{"custom-field-edit": tr("fields.edit_heading", "name", "Seriennummer"), "cf-expiry": exists, "field-save": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#cf-area, #cf-kind").Length() != 0 {
					t.Errorf("%s: area or kind can be changed on an existing field", lang)
				}
				if _, ok := d.Find(`[data-testid="cf-expiry"]`).Attr("checked"); !ok {
					t.Errorf("%s: expiry flag not shown", lang)
				}
				if _, ok := d.Find(`[data-testid="cf-in-list"]`).Attr("checked"); ok {
					t.Errorf("%s: in-list flag shown", lang)
				}
			},
		},
	})
}
