package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"portier/i18n"
)

// An organisation's home page for a customer and for a manager, and the people page of an organisation
// and of the staff, with the actions the handler allowed and nothing more.
func TestOrgPagesInBothLanguages(t *testing.T) {
	nav := DocsNav{OrgName: "Alpha GmbH", Areas: []AreaLink{{Name: "passwords", TitleKey: "docs.area.passwords", Href: "/o/alpha/docs/passwords", Count: 3}}}
	roles := []PeopleChoice{{Value: "manager", LabelKey: "role.manager"}, {Value: "viewer", LabelKey: "role.viewer"}}
	checkPages(t, []pageCase{
		{
			name: "customer's home without documentation, with emergencies and other organisations",
			render: func(s Shell) templ.Component {
				return OrgHome(s, OrgHomeView{Name: "Alpha GmbH", Slug: "alpha", RoleKey: "role.viewer", IsCustomer: true, Nav: nav,
					Support:   MSP{Name: "Muster IT", SupportEmail: "hilfe@muster-it.example", SupportPhone: "+49 (30) 123"},
					Areas:     []OrgArea{{Name: "passwords", LabelKey: "docs.area.passwords", Href: "/o/alpha/docs/passwords"}},
					OtherOrgs: []OrgChoice{{Name: "Beta AG", Slug: "beta", RoleKey: "role.manager"}},
					Emergency: []ArticleRow{{Title: "Internet weg", Href: "/o/alpha/articles/1", Emergency: true}}})
			},
			want: wants{"org-name": lit("Alpha GmbH"), "org-role": func(l *i18n.Localizer) string { return l.T("org.your_role", "role", l.T("role.viewer")) }, "org-docs-empty": tr("org.docs.empty", "msp", "Muster IT"),
				"home-area-passwords": tr("docs.area.passwords"), "handbook-link": tr("docs.handbook.title"), "org-support": tr("org.support.text", "msp", "Muster IT"),
				"org-support-email": lit("hilfe@muster-it.example"), "org-support-phone": lit("+49 (30) 123"), "switch-beta": lit("Beta AG"), "docs-menu": exists},
			absent: []string{"org-manage", "org-people-link", "org-audit-link"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="org-support-phone"]`).AttrOr("href", "") != "tel:+4930123" || d.Find(`[data-testid="handbook-link"]`).AttrOr("href", "") != "/o/alpha/handbook" {
					t.Errorf("%s: support phone or handbook link", lang)
				}
				if d.Find(`a[href="/o/alpha/articles/1"]`).Length() == 0 {
					t.Errorf("%s: emergency procedure not on the home page", lang)
				}
			},
		},
		{
			name: "manager's home with documentation",
			render: func(s Shell) templ.Component {
				return OrgHome(s, OrgHomeView{Name: "Alpha GmbH", Slug: "alpha", RoleKey: "role.manager", Nav: nav, DocsTotal: 3, FlashKey: "people.flash.role",
					PeopleHref: "/o/alpha/people", AuditHref: "/o/alpha/audit"})
			},
			want:   wants{"org-people-link": tr("org.people.link"), "org-audit-link": tr("org.audit.link"), "alert-success": tr("people.flash.role")},
			absent: []string{"org-docs-empty", "org-support", "org-switch"},
		},
		{
			name: "organisation's people: a member of each kind, invitations, no mail server",
			render: func(s Shell) templ.Component {
				return People(s, PeopleView{OrgName: "Alpha GmbH", Base: "/o/alpha", CanInvite: true, RoleChoices: roles, FlashKey: "people.flash.invited",
					NoMail: &InviteNoMail{Email: "neu@alpha.example", Until: "6.12.2026", MSP: "Muster IT", Contact: "hilfe@muster-it.example"},
					Invite: InviteForm{Email: "x", Role: "viewer", Lang: "en", EmailErr: "people.error.email_invalid"},
					Members: []MemberRow{
						{ID: 1, Name: "Kim", Email: "kim@alpha.example", RoleKey: "role.manager", Role: "manager", Status: "active", IsSelf: true},
						{ID: 2, Name: "Lou", Email: "lou@alpha.example", RoleKey: "role.viewer", Role: "viewer", Status: "active", LastLogin: "1.2.2026",
							CanChangeRole: true, CanDisable: true, MFAReset: &MFAResetFormView{Action: "/o/alpha/people/2/mfa-reset", Next: "/o/alpha/people", Name: "Lou"},
							Remove: &ConfirmFormView{Action: "/o/alpha/people/2/remove", Name: "Lou", HintKey: "people.remove.hint", ButtonKey: "people.remove.submit", TestID: "member-remove-2"}},
						{ID: 3, Name: "Max", Email: "max@alpha.example", RoleKey: "role.viewer", Role: "viewer", Status: "disabled", CanEnable: true},
					},
					Invitations: []InvitationRow{{ID: 8, Name: "Neu", Email: "neu@alpha.example", RoleKey: "role.viewer", Status: "pending", InvitedBy: "Kim",
						Created: "29.11.2026", Expires: "6.12.2026", CanResend: true, CanRevoke: true}, {ID: 9, Email: "alt@alpha.example", RoleKey: "role.viewer", Status: "expired"}}})
			},
			want: wants{"people-org": lit("Alpha GmbH"), "alert-success": tr("people.flash.invited"),
				"invite-no-mail": tr("people.no_mail.manager", "email", "neu@alpha.example", "msp", "Muster IT", "contact", "hilfe@muster-it.example"),
				"member-1":       tr("people.you"), "member-2": lit("1.2.2026"), "role-select-2": tr("role.viewer"), "role-2": tr("people.role.change"),
				"disable-2": tr("people.disable"), "mfa-reset-open-2": tr("mfa.reset.button"),
				"member-remove-open-2": tr("people.remove.open"), "member-remove-2-form": tr("people.remove.hint", "name", "Lou"), "member-remove-2": tr("people.remove.submit"), "member-3": tr("people.status.disabled"), "enable-3": tr("people.enable"),
				"invitation-8": tr("invite.status.pending"), "resend-8": tr("people.resend"), "revoke-8": tr("people.revoke"), "invitation-9": tr("invite.status.expired"),
				"invite": tr("role.viewer.hint"), "invite-email-error": tr("people.error.email_invalid"), "role-hints": tr("role.manager.hint"), "invite-submit": tr("people.invite.submit")},
			absent: []string{"invite-link", "members-empty", "invitations-empty", "staff-menu", "role-select-1", "disable-1", "mfa-reset-open-1", "member-remove-open-1", "member-remove-open-3", "enable-2", "disable-3", "resend-9", "revoke-9"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/o/alpha/people/2/role"] option[selected]`).AttrOr("value", "") != "viewer" ||
					d.Find(`#invite-role option[selected]`).AttrOr("value", "") != "viewer" || d.Find(`#invite-lang option[selected]`).AttrOr("value", "") != "en" {
					t.Errorf("%s: selected roles or language", lang)
				}
				// Removing asks first, without JavaScript: the form is inside a closed <details>.
				if f := d.Find(`[data-testid="member-remove-2-form"]`); f.AttrOr("action", "") != "/o/alpha/people/2/remove" ||
					f.AttrOr("method", "") != "post" || f.ParentFiltered("details").Length() != 1 || f.Parent().Is("details[open]") {
					t.Errorf("%s: the removal is not a closed confirmation posting to the route", lang)
				}
				if d.Find(`[data-testid="member-3"]`).AttrOr("data-status", "") != "disabled" || d.Find(`[data-testid="invite-no-mail"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: status or history", lang)
				}
			},
		},
		{
			name: "staff people with the link to pass on",
			render: func(s Shell) templ.Component {
				return People(s, PeopleView{Staff: &StaffNav{IsAdmin: true, Current: "people"}, Base: "/staff", RoleChoices: roles, AuditHref: "/staff/audit",
					NoMail: &InviteNoMail{Email: "neu@muster-it.example", Until: "6.12.2026", Link: "https://portal.muster-it.example/invite/tok"}})
			},
			want: wants{"people": tr("staff.people.title"), "staff-menu-people": exists, "invite-no-mail": tr("people.no_mail.staff", "email", "neu@muster-it.example", "date", "6.12.2026"),
				"members-empty": tr("people.members.empty"), "invitations-empty": tr("people.invitations.empty"), "people-audit-link": tr("org.audit.link")},
			absent: []string{"invite", "people-org"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="invite-link"]`).AttrOr("value", "") != "https://portal.muster-it.example/invite/tok" {
					t.Errorf("%s: the link to pass on", lang)
				}
			},
		},
	})
}
