package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The staff area: the menu (administrators see more), the organisations with the create form, the MSP's
// settings with the terms, and the audit log for staff and for one organisation's managers.
func TestStaffPagesInBothLanguages(t *testing.T) {
	admin := StaffNav{IsAdmin: true, Current: "orgs"}
	checkPages(t, []pageCase{
		{
			name:   "technician's menu",
			render: func(Shell) templ.Component { return StaffMenu(StaffNav{Current: "people"}) },
			want: wants{"staff-menu-orgs": tr("staff.menu.orgs"), "staff-menu-people": tr("staff.menu.people"), "staff-menu-expiry": tr("expiry.title"),
				"staff-menu-templates": tr("templates.title")},
			absent: []string{"staff-menu-fields", "staff-menu-settings", "staff-menu-audit"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[aria-current="page"]`).AttrOr("data-testid", "") != "staff-menu-people" || d.Find(`[aria-current]`).Length() != 1 {
					t.Errorf("%s: current entry", lang)
				}
			},
		},
		{
			name:   "administrator's menu",
			render: func(Shell) templ.Component { return StaffMenu(StaffNav{IsAdmin: true}) },
			want:   wants{"staff-menu-fields": tr("fields.title"), "staff-menu-settings": tr("staff.menu.settings"), "staff-menu-audit": tr("staff.menu.audit")},
		},
		{
			name: "organisations for an administrator, the create form refused",
			render: func(s Shell) templ.Component {
				return StaffHome(s, StaffHomeView{Nav: admin, FlashKey: "staff.flash.org_created", Orgs: []StaffOrgRow{{Name: "Alpha GmbH", Slug: "alpha", People: 4}},
					Form: OrgCreateForm{Name: "", Slug: "A B", NameErr: "staff.error.org_name_required", SlugErr: "staff.error.slug_invalid"}})
			},
			want: wants{"staff-orgs": tr("staff.orgs.title"), "alert-success": tr("staff.flash.org_created"), "org-row-alpha": lit("Alpha GmbH"), "org-people-alpha": lit("4"),
				"org-idp-alpha": tr("idp.form.link"), "org-name-error": tr("staff.error.org_name_required"), "org-slug-error": tr("staff.error.slug_invalid"),
				"org-create-submit": tr("staff.orgs.create.submit")},
			absent: []string{"staff-orgs-empty"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#org-slug").AttrOr("value", "") != "A B" {
					t.Errorf("%s: typed address lost", lang)
				}
			},
		},
		{
			name:   "no organisations, technician",
			render: func(s Shell) templ.Component { return StaffHome(s, StaffHomeView{Nav: StaffNav{Current: "orgs"}}) },
			want:   wants{"staff-orgs-empty": tr("staff.orgs.empty"), "org-create": tr("staff.orgs.create.slug_hint")},
			absent: []string{"orgs-table", "alert-success", "org-name-error"},
		},
		{
			name: "technician sees no provider link",
			render: func(s Shell) templ.Component {
				return StaffHome(s, StaffHomeView{Nav: StaffNav{Current: "orgs"}, Orgs: []StaffOrgRow{{Name: "Alpha GmbH", Slug: "alpha"}}})
			},
			want:   wants{"org-row-alpha": exists},
			absent: []string{"org-idp-alpha"},
		},
		{
			name: "settings refused, terms published",
			render: func(s Shell) templ.Component {
				return Settings(s, SettingsView{Nav: StaffNav{IsAdmin: true, Current: "settings"}, MSPName: "", SupportEmail: "hilfe@muster-it.example", SupportPhone: "x", TTLDays: "99",
					NameErr: "settings.error.name_required", PhoneErr: "settings.error.phone_invalid", TTLErr: "settings.error.ttl", TermsVersion: 2, TermsPublished: "1.2.2026",
					TermsDE: "Regeln", TermsEN: "", TermsENErr: "settings.error.terms_required", FlashKey: "settings.flash.terms_published"})
			},
			want: wants{"settings": tr("settings.title"), "alert-success": tr("settings.flash.terms_published"), "msp-name-error": tr("settings.error.name_required"),
				"support-phone-error": tr("settings.error.phone_invalid"), "ttl-days-error": tr("settings.error.ttl"), "settings-submit": tr("settings.save"),
				"terms-current": tr("terms.version", "version", 2, "date", "1.2.2026"), "terms-en-error": tr("settings.error.terms_required"), "terms-publish": tr("settings.terms.publish")},
			absent: []string{"support-email-error", "terms-de-error"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#terms-de").Text() != "Regeln" || d.Find("#terms-de").AttrOr("lang", "") != "de" || d.Find("#terms-en").AttrOr("lang", "") != "en" {
					t.Errorf("%s: terms texts", lang)
				}
				if d.Find("#ttl-days").AttrOr("max", "") != "30" {
					t.Errorf("%s: lifetime bound", lang)
				}
			},
		},
		{
			name: "settings without terms",
			render: func(s Shell) templ.Component {
				return Settings(s, SettingsView{Nav: StaffNav{IsAdmin: true}, MSPName: "Muster IT", TTLDays: "7"})
			},
			want:   wants{"settings-form": exists, "terms-form": exists},
			absent: []string{"terms-current", "msp-name-error"},
		},
		{
			name: "audit for staff, second page",
			render: func(s Shell) templ.Component {
				return Audit(s, AuditView{Nav: &StaffNav{IsAdmin: true, Current: "audit"}, Base: "/staff/audit", Action: "login.ok",
					Orgs:      []AuditOrgOption{{Slug: "alpha", Name: "Alpha GmbH", Selected: true}},
					Actions:   []AuditActionOption{{Value: "login.ok", Label: "Anmeldung", Selected: true}},
					Rows:      []AuditRow{{ID: 1, At: "1.2.2026", Actor: "Kim", Org: "Alpha GmbH", Action: "Anmeldung", ActionCode: "login.ok", Target: "—", IP: "192.0.2.1"}},
					OlderHref: "/staff/audit?before=1", FirstHref: "/staff/audit"})
			},
			want: wants{"audit": tr("audit.title"), "staff-menu-audit": exists, "audit-filter": tr("audit.filter.org"), "audit-row": lit("192.0.2.1"),
				"audit-first": tr("audit.first"), "audit-older": tr("audit.older"), "audit-filter-submit": tr("audit.filter.submit")},
			absent: []string{"audit-empty", "audit-org"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`#audit-org option[selected]`).AttrOr("value", "") != "alpha" || d.Find(`[data-testid="audit-action"] option[selected]`).AttrOr("value", "") != "login.ok" {
					t.Errorf("%s: filter not kept", lang)
				}
				if d.Find(`[data-testid="audit-row"]`).AttrOr("data-action", "") != "login.ok" || d.Find(`[data-testid="audit-row"] td`).Length() != 6 {
					t.Errorf("%s: row with organisation column", lang)
				}
			},
		},
		{
			name: "an organisation's audit, empty",
			render: func(s Shell) templ.Component {
				return Audit(s, AuditView{OrgName: "Alpha GmbH", Base: "/o/alpha/audit"})
			},
			want:   wants{"audit-org": lit("Alpha GmbH"), "audit-empty": tr("audit.empty")},
			absent: []string{"staff-menu", "audit-table", "audit-first", "audit-older"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#audit-org").Length() != 0 {
					t.Errorf("%s: a manager may filter by organisation", lang)
				}
			},
		},
	})
}
