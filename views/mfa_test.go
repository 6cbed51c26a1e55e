package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// Second factors: the choice of method (with and without passkeys and mail), enrolment of an app and of
// e-mail codes, recovery codes, the sign-in step for each method, the security page, removal and the
// password question before a change, and the reset button.
func TestMFAPagesInBothLanguages(t *testing.T) {
	assets := MFAAssets{CSS: "/mfa.css", PasskeyJS: "/passkey.js"}
	checkPages(t, []pageCase{
		{
			name:   "first choice without passkeys or mail",
			render: func(s Shell) templ.Component { return MFASetup(s, MFASetupView{First: true}) },
			want: wants{"mfa-setup": tr("mfa.setup.next"), "passkey-unavailable": tr("mfa.passkey.unavailable"), "setup-totp": tr("mfa.setup.totp_button"),
				"email-unavailable": tr("mfa.email.unavailable")},
			absent: []string{"passkey-form-register", "setup-email"},
		},
		{
			name: "another method with everything available",
			render: func(s Shell) templ.Component {
				return MFASetup(s, MFASetupView{PasskeyAvailable: true, EmailAvailable: true, PasskeyName: "Laptop", Assets: assets})
			},
			want: wants{"mfa-setup": tr("mfa.setup.lead_more"), "passkey-form-register": tr("mfa.setup.passkey_button"),
				"setup-email": tr("mfa.setup.email_button")},
			absent: []string{"passkey-unavailable", "email-unavailable"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				f := d.Find(`[data-testid="passkey-form-register"]`)
				if _, hidden := f.Attr("hidden"); !hidden || f.AttrOr("data-finish", "") != "/mfa/setup/passkey/finish" || f.Find(`input[name=name]`).AttrOr("value", "") != "Laptop" {
					t.Errorf("%s: passkey form", lang)
				}
				if d.Find(`script[src="/passkey.js"]`).Length() != 1 || d.Find(`link[href="/mfa.css"]`).Length() != 1 {
					t.Errorf("%s: ceremony script or styles missing", lang)
				}
			},
		},
		{
			name: "authenticator app, wrong code",
			render: func(s Shell) templ.Component {
				return TOTPSetup(s, TOTPSetupView{First: true, QR: "data:image/png;base64,AAAA", Key: "ABCD EFGH", AppLink: "otpauth://totp/x", Issuer: "Muster IT",
					Account: "kim@alpha.example", Name: "Handy", CodeErrorKey: "mfa.code_wrong"})
			},
			want: wants{"totp-setup": tr("mfa.totp.next"), "totp-key": lit("ABCD EFGH"), "totp-settings": tr("mfa.totp.settings_value"),
				"totp-app-link": tr("mfa.totp.open_app"), "code-error": tr("mfa.code_wrong"), "totp-submit": tr("mfa.totp.submit")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="totp-qr"]`).AttrOr("src", "") != "data:image/png;base64,AAAA" || d.Find(`[data-testid="totp-setup"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: QR code or the secret page kept in history", lang)
				}
				if _, ok := d.Find("#code").Attr("autofocus"); !ok || d.Find("#code").AttrOr("autocomplete", "") != "one-time-code" {
					t.Errorf("%s: code field", lang)
				}
			},
		},
		{
			name: "e-mail codes, choosing the address",
			render: func(s Shell) templ.Component {
				return EmailSetup(s, EmailSetupView{Own: "kim@alpha.example", Choice: "other", Other: "x", OtherErrorKey: "docs.err.email", InfoKey: "mfa.email.expired"})
			},
			want: wants{"email-setup": tr("mfa.email.own", "email", "kim@alpha.example"), "other-error": tr("docs.err.email"), "alert-info": tr("mfa.email.expired"),
				"email-send": tr("mfa.email.send")},
			absent: []string{"email-verify", "email-sent-to"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, ok := d.Find(`[data-testid="email-other"]`).Attr("checked"); !ok {
					t.Errorf("%s: the chosen address is not kept", lang)
				}
			},
		},
		{
			name: "e-mail codes, code sent",
			render: func(s Shell) templ.Component {
				return EmailSetup(s, EmailSetupView{First: true, Own: "kim@alpha.example", Choice: "own", Pending: "kim@alpha.example", CodeErrorKey: "mfa.code_wrong"})
			},
			want: wants{"email-sent-to": trN("mfa.email.sent", emailCodeMinutes, "email", "kim@alpha.example"), "code-error": tr("mfa.code_wrong"),
				"email-verify": tr("mfa.email.confirm"), "email-resend": tr("mfa.email.resend")},
			absent: []string{"email-send"},
		},
		{
			name: "recovery codes after the first method",
			render: func(s Shell) templ.Component {
				return RecoveryCodes(s, RecoveryCodesView{First: true, Codes: []string{"aaaa-bbbb", "cccc-dddd"}, Created: "29.11.2026"})
			},
			want: wants{"setup-done": tr("mfa.recovery.set_up"), "recovery-list": lit("aaaa-bbbb"), "recovery-download": tr("mfa.recovery.download"), "recovery-done": tr("mfa.recovery.done_first")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="recovery-code"]`).Length() != 2 || d.Find(`[data-testid="recovery-codes"]`).AttrOr("hx-history", "") != "false" {
					t.Errorf("%s: codes or history", lang)
				}
			},
		},
		{
			name:   "new recovery codes later",
			render: func(s Shell) templ.Component { return RecoveryCodes(s, RecoveryCodesView{Codes: []string{"a"}}) },
			want:   wants{"recovery-done": tr("mfa.recovery.done")},
			absent: []string{"setup-done"},
		},
		{
			name: "sign-in step: app code, wrong, with other ways",
			render: func(s Shell) templ.Component {
				return MFAVerify(s, MFAVerifyView{Method: "totp", Use: "totp-3", ErrorKey: "mfa.code_wrong",
					Others: []MFAOption{{Href: "/mfa?use=email-4", LabelKey: "mfa.use.email", Args: []any{"email", "k…@alpha.example"}, TestID: "use-email-4"},
						{Href: "/mfa?use=recovery", LabelKey: "mfa.use.recovery", TestID: "use-recovery"}}})
			},
			want: wants{"mfa-verify": tr("mfa.verify.totp"), "alert-error": tr("mfa.code_wrong"), "mfa-submit": tr("mfa.verify.submit"),
				"use-email-4": tr("mfa.use.email", "email", "k…@alpha.example"), "use-recovery": tr("mfa.use.recovery")},
			absent: []string{"email-resend", "passkey-form-mfa", "mfa-no-mail"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/mfa"] input[name=use]`).AttrOr("value", "") != "totp-3" || d.Find(`[data-testid="mfa-verify"]`).AttrOr("data-method", "") != "totp" {
					t.Errorf("%s: the method is not posted", lang)
				}
			},
		},
		{
			name: "sign-in step: e-mail code",
			render: func(s Shell) templ.Component {
				return MFAVerify(s, MFAVerifyView{Method: "email", Use: "email-4", Email: "k…@alpha.example", InfoKey: "mfa.email.expired"})
			},
			want:   wants{"email-sent-to": trN("mfa.verify.email", emailCodeMinutes, "email", "k…@alpha.example"), "email-resend": tr("mfa.email.resend"), "alert-info": tr("mfa.email.expired")},
			absent: []string{"mfa-others"},
		},
		{
			name:   "sign-in step: recovery code",
			render: func(s Shell) templ.Component { return MFAVerify(s, MFAVerifyView{Method: "recovery", Use: "recovery"}) },
			want:   wants{"mfa-verify": tr("mfa.verify.recovery"), "mfa-submit": exists},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if c := d.Find("#code"); c.AttrOr("spellcheck", "") != "false" || c.AttrOr("inputmode", "") != "" {
					t.Errorf("%s: a recovery code field must take letters", lang)
				}
			},
		},
		{
			name:   "sign-in step: passkey",
			render: func(s Shell) templ.Component { return MFAVerify(s, MFAVerifyView{Method: "passkey", Assets: assets}) },
			want:   wants{"passkey-form-mfa": tr("mfa.verify.passkey_button")},
			absent: []string{"passkey-unavailable", "mfa-submit"},
		},
		{
			name:   "sign-in step: passkey on an address without passkeys",
			render: func(s Shell) templ.Component { return MFAVerify(s, MFAVerifyView{Method: "passkey"}) },
			want:   wants{"passkey-unavailable": tr("mfa.passkey.unavailable")},
			absent: []string{"passkey-form-mfa"},
		},
		{
			name: "sign-in step: only e-mail codes and no mail server",
			render: func(s Shell) templ.Component {
				return MFAVerify(s, MFAVerifyView{Method: "nomail", NoMailContact: "hilfe@muster-it.example"})
			},
			want:   wants{"mfa-no-mail": tr("mfa.verify.no_mail_support", "contact", "hilfe@muster-it.example")},
			absent: []string{"mfa-submit", "email-resend"},
		},
		{
			name: "security page",
			render: func(s Shell) templ.Component {
				return Security(s, SecurityView{InfoKey: "security.method_added", PasskeyAvailable: true, EmailAvailable: true, Assets: assets, RecoveryLeft: 1, RecoveryLow: true,
					Methods: []SecurityMethod{{ID: 5, KindKey: "mfa.kind.passkey", Name: "Laptop", Detail: "synced", Added: "1.2.2026", LastUsed: "2.2.2026"},
						{ID: 6, KindKey: "mfa.kind.totp", Name: "Handy", Added: "1.2.2026"}},
					Sessions: []SecuritySession{{Device: "Firefox on Linux", IP: "192.0.2.1", LastSeen: "now", Current: true}},
					SignIns:  []SecuritySignIn{{At: "1.2.2026", IP: "192.0.2.1", Browser: "Firefox", MethodKey: "mfa.kind.totp"}},
					IdPLinks: []IdPLinkRow{{IdPID: 3, Provider: "Contoso", Kind: "entra", Org: "Alpha GmbH"}}})
			},
			want: wants{"security": tr("security.title"), "alert-success": tr("security.method_added"), "method-5": tr("mfa.kind.passkey"), "last-used-5": lit("2.2.2026"),
				"last-used-6": tr("security.never"), "rename-6": tr("security.rename"), "remove-6": tr("security.remove"), "passkey-form-register": tr("security.add_passkey"),
				"add-totp-link": tr("security.add_totp"), "add-email-link": tr("security.add_email"), "security-idp": exists,
				"recovery-low": trN("security.recovery_low", 1), "security-sessions": tr("security.this_device"), "signin": tr("mfa.kind.totp")},
			absent: []string{"recovery-left", "email-unavailable"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="method-6"] input[name=name]`).AttrOr("value", "") != "Handy" {
					t.Errorf("%s: rename field", lang)
				}
			},
		},
		{
			name:   "security page, codes all used, no mail",
			render: func(s Shell) templ.Component { return Security(s, SecurityView{RecoveryLow: true}) },
			want:   wants{"recovery-low": tr("security.recovery_none"), "email-unavailable": tr("mfa.email.unavailable"), "security-signins": tr("security.signins_none")},
			absent: []string{"security-idp", "passkey-form-register", "signin"},
		},
		{
			name:   "security page, enough codes",
			render: func(s Shell) templ.Component { return Security(s, SecurityView{RecoveryLeft: 8}) },
			want:   wants{"recovery-left": trN("security.recovery_left", 8)},
			absent: []string{"recovery-low"},
		},
		{
			name: "remove a method",
			render: func(s Shell) templ.Component {
				return RemoveMethod(s, RemoveMethodView{ID: 6, KindKey: "mfa.kind.totp", Name: "Handy", Email: "kim@alpha.example"})
			},
			want: wants{"remove-method": tr("security.remove_notice", "email", "kim@alpha.example"), "remove-confirm": tr("security.remove_confirm"), "remove-cancel": tr("security.remove_cancel")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/security/methods/6/remove"]`).Length() != 1 {
					t.Errorf("%s: removal form", lang)
				}
			},
		},
		{
			name: "the last method cannot be removed",
			render: func(s Shell) templ.Component {
				return RemoveMethod(s, RemoveMethodView{ID: 6, KindKey: "mfa.kind.totp", Last: true})
			},
			want:   wants{"alert-error": tr("security.last_factor"), "remove-cancel": exists},
			absent: []string{"remove-confirm"},
		},
		{
			name: "password again",
			render: func(s Shell) templ.Component {
				return Reauth(s, ReauthView{Next: "/security/methods/6/remove", ErrorKey: "reauth.failed"})
			},
			want: wants{"reauth": tr("reauth.lead"), "alert-error": tr("reauth.failed"), "reauth-submit": tr("reauth.submit")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`form[action="/security/confirm"] input[name=next]`).AttrOr("value", "") != "/security/methods/6/remove" {
					t.Errorf("%s: next lost", lang)
				}
			},
		},
		{
			name: "reset button",
			render: func(Shell) templ.Component {
				return MFAResetForm(MFAResetFormView{Action: "/staff/users/7/mfa-reset", Next: "/staff/people", Name: "Kim"})
			},
			want: wants{"mfa-reset-form": tr("mfa.reset.hint", "name", "Kim"), "mfa-reset": tr("mfa.reset.button")},
		},
	})
}
