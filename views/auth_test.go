package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The sign-in, message, terms, organisation choice, confirmation and first-setup pages in both languages.
func TestAuthPagesInBothLanguages(t *testing.T) {
	checkPages(t, []pageCase{
		{
			name: "sign-in with providers, passkeys and both alerts",
			render: func(s Shell) templ.Component {
				return Login(s, LoginView{Email: "a@alpha.example", Next: "/o/alpha", ErrorKey: "login.failed", InfoKey: "login.signed_out",
					PasskeyJS: "/passkey.js", IdPs: []IdPButton{{Name: "Contoso", Kind: "entra"}}})
			},
			want: wants{"login": tr("login.title"), "alert-error": tr("login.failed"), "alert-info": tr("login.signed_out"),
				"idp-continue-entra": tr("idp.continue", "provider", "Contoso"), "login-passkey": tr("login.passkey_hint"),
				"passkey-login": tr("login.passkey"), "login-submit": tr("login.submit"), "forgot-link": tr("login.forgot")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				// Both forms bring the person back where they were going.
				if d.Find(`form[action="/login"] input[name=next]`).AttrOr("value", "") != "/o/alpha" ||
					d.Find(`form[action="/login/idp"] input[name=next]`).AttrOr("value", "") != "/o/alpha" {
					t.Errorf("%s: next lost", lang)
				}
				// With the address known the cursor goes to the password.
				if _, ok := d.Find("#password").Attr("autofocus"); !ok {
					t.Errorf("%s: password not focused", lang)
				}
			},
		},
		{
			name:   "plain sign-in",
			render: func(s Shell) templ.Component { return Login(s, LoginView{}) },
			want:   wants{"login-submit": exists},
			absent: []string{"alert-error", "alert-info", "idp-buttons", "login-passkey"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, ok := d.Find("#email").Attr("autofocus"); !ok {
					t.Errorf("%s: e-mail not focused", lang)
				}
			},
		},
		{
			name: "message with support and a way on",
			render: func(s Shell) templ.Component {
				return Message(s, MessageView{TitleKey: "confirm.taken.title", TextKey: "confirm.taken.text", Kind: "error",
					LinkKey: "confirm.done.continue", LinkHref: "/login", ShowSupport: true, TestID: "confirm-taken"})
			},
			want: wants{"confirm-taken": tr("confirm.taken.text"), "support-contact": tr("support.contact", "msp", "Muster IT"),
				"message-link": tr("confirm.done.continue")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="support-contact"] a[href="tel:+4930123"]`).Length() != 1 {
					t.Errorf("%s: support phone not dialable", lang)
				}
			},
		},
		{
			name: "message without support",
			render: func(s Shell) templ.Component {
				return Message(s, MessageView{TitleKey: "confirm.taken.title", TextKey: "confirm.taken.text", Kind: "info", TestID: "m"})
			},
			want:   wants{"m": tr("confirm.taken.title")},
			absent: []string{"support-contact", "message-link"},
		},
		{
			name: "new terms to accept, declined once",
			render: func(s Shell) templ.Component {
				return TermsPage(s, TermsView{Version: 3, Text: "<b>Regeln</b>", Published: "1.2.2026", MustAccept: true, ErrorKey: "terms.declined"})
			},
			want: wants{"terms": tr("terms.new_version"), "terms-text": lit("<b>Regeln</b>"), "alert-error": tr("terms.declined"),
				"terms-accept": tr("terms.accept"), "terms-decline": tr("terms.decline")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="terms-text"] b`).Length() != 0 {
					t.Errorf("%s: terms text rendered as markup", lang)
				}
				if d.Find(`form[action="/terms"] input[name=version]`).AttrOr("value", "") != "3" {
					t.Errorf("%s: the accepted version is not posted", lang)
				}
			},
		},
		{
			name: "terms to read",
			render: func(s Shell) templ.Component {
				return TermsPage(s, TermsView{Version: 2, Text: "Regeln", Published: "1.1.2026"})
			},
			want:   wants{"terms": tr("terms.version", "version", 2, "date", "1.1.2026"), "terms-text": lit("Regeln")},
			absent: []string{"terms-accept", "terms-decline", "alert-error"},
		},
		{
			name:   "set up",
			render: func(s Shell) templ.Component { return SetupDone(s, SetupDoneView{NextHref: "/o/alpha"}) },
			want:   wants{"setup-done": tr("setup.done.text"), "setup-continue": tr("setup.done.continue")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="setup-continue"]`).AttrOr("href", "") != "/o/alpha" {
					t.Errorf("%s: continue link", lang)
				}
			},
		},
		{
			name: "organisations to choose",
			render: func(s Shell) templ.Component {
				return Orgs(s, OrgsView{Orgs: []OrgChoice{{Name: "Alpha GmbH", Slug: "alpha", RoleKey: "role.manager", Current: true}, {Name: "Beta AG", Slug: "beta", RoleKey: "role.viewer"}}})
			},
			want:   wants{"orgs": tr("orgs.lead"), "org-alpha": lit("Alpha GmbH"), "org-beta": lit("Beta AG")},
			absent: []string{"orgs-empty"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="org-alpha"]`).HasClass("secondary") || !d.Find(`[data-testid="org-beta"]`).HasClass("secondary") {
					t.Errorf("%s: the current organisation is not the marked one", lang)
				}
			},
		},
		{
			name:   "no organisation",
			render: func(s Shell) templ.Component { return Orgs(s, OrgsView{}) },
			// Also where someone removed from their last organisation lands: whom to ask, with the contact.
			want: wants{"orgs-empty": tr("orgs.none", "msp", "Muster IT"), "orgs-support-email": lit("hilfe@muster-it.example"),
				"orgs-support-phone": lit("+49 (30) 123")},
		},
		{
			name: "address waiting for confirmation, mail sent again",
			render: func(s Shell) templ.Component {
				return PendingConfirmation(s, PendingConfirmationView{Email: "neu@alpha.example", SentKey: "confirm.pending.sent"})
			},
			want: wants{"confirm-pending": tr("confirm.pending.text", "email", "neu@alpha.example"), "alert-success": tr("confirm.pending.sent"),
				"confirm-resend": tr("confirm.pending.resend")},
		},
		{
			name: "first administrator with problems",
			render: func(s Shell) templ.Component {
				return Setup(s, SetupView{Action: "/setup/tok", Email: "x", Name: "", Lang: "en", EmailErr: "setup.first.email_invalid", NameErr: "docs.err.required"})
			},
			want: wants{"setup-first": tr("setup.first.lead"), "setup-email-error": tr("setup.first.email_invalid"), "setup-name-error": tr("docs.err.required"),
				"setup-submit": tr("setup.first.submit")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`#setup-lang option[selected]`).AttrOr("value", "") != "en" {
					t.Errorf("%s: the chosen language is not kept", lang)
				}
				if d.Find(`#setup-email`).AttrOr("aria-describedby", "") != "setup-email-error" {
					t.Errorf("%s: the e-mail error is not tied to its input", lang)
				}
			},
		},
	})
}
